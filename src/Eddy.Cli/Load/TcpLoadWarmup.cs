using System.Net;
using System.Net.Sockets;

namespace Eddy.Cli.Load;

/// <summary>
/// Runs the client code through two one-shot rounds against a throwaway in-process echo server before
/// the real run, and discards the figures. Without it the JIT compiles the connection path while the
/// first clients are in flight: every client of a cold 20-client round measured 14–25 ms from connect to
/// reply (Release build, async echo server), against about 100 µs once warm.
/// </summary>
internal static class TcpLoadWarmup
{
    public static void Run(TcpLoadSettings settings)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen();
        }
        catch (SocketException)
        {
            return; // no IPv4 loopback here: run cold rather than not at all
        }
        var server = new Thread(() => Serve(listener)) { Name = "eddy-load-warmup", IsBackground = true };
        server.Start();
        TcpLoadSettings warmup = settings with
        {
            Target = (IPEndPoint)listener.LocalEndPoint!,
            Connections = 1,
            Loops = 1,
            MessageSize = settings.Message?.Length ?? Math.Min(settings.MessageSize, 4096),
            Rounds = 2,
            Duration = null,
        };
        using (var load = new TcpLoad(warmup))
        {
            load.Run();
        }
        listener.Close(); // ends the blocked Accept
        server.Join();
    }

    /// <summary>The tutorial's blocking echo server in miniature: one client at a time is all the warm-up needs.</summary>
    private static void Serve(Socket listener)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                using Socket client = listener.Accept();
                int n;
                while ((n = client.Receive(buffer)) > 0)
                {
                    client.Send(buffer.AsSpan(0, n));
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The listener was closed: the warm-up is over.
        }
    }
}
