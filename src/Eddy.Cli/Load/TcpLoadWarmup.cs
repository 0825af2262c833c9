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
        using LoopbackResponder? server = LoopbackResponder.TryStart(Echo);
        if (server is null)
        {
            return;
        }
        TcpLoadSettings warmup = settings with
        {
            Target = server.EndPoint,
            Connections = 1,
            Loops = 1,
            MessageSize = settings.Message?.Length ?? Math.Min(settings.MessageSize, 4096),
            Rounds = 2,
            Duration = null,
        };
        using var load = new TcpLoad(warmup);
        load.Run();
    }

    /// <summary>The tutorial's blocking echo server in miniature: one client at a time is all the warm-up needs.</summary>
    private static void Echo(Socket client)
    {
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = client.Receive(buffer)) > 0)
        {
            client.Send(buffer.AsSpan(0, n));
        }
    }
}
