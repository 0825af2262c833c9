using System.Net;
using System.Net.Sockets;

namespace Eddy.Cli.Load;

/// <summary>
/// A throwaway blocking server on 127.0.0.1 for the warm-ups: it accepts one client at a time and hands
/// it to a serve function, on a thread of its own, until disposed.
/// </summary>
internal sealed class LoopbackResponder : IDisposable
{
    private readonly Socket _listener;
    private readonly Thread _thread;

    private LoopbackResponder(Socket listener, Action<Socket> serveClient)
    {
        _listener = listener;
        EndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _thread = new Thread(() => Serve(serveClient)) { Name = "eddy-load-warmup", IsBackground = true };
        _thread.Start();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Null when there is no IPv4 loopback here: the caller then runs cold rather than not at all.</summary>
    public static LoopbackResponder? TryStart(Action<Socket> serveClient)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen();
        }
        catch (SocketException)
        {
            listener.Dispose();
            return null;
        }
        return new LoopbackResponder(listener, serveClient);
    }

    private void Serve(Action<Socket> serveClient)
    {
        try
        {
            while (true)
            {
                using Socket client = _listener.Accept();
                client.ReceiveTimeout = 5000; // a warm-up takes well under a second: never wait on a client for ever
                serveClient(client);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The listener was closed: the warm-up is over.
        }
    }

    public void Dispose()
    {
        _listener.Close(); // ends the blocked Accept
        _thread.Join();
    }
}
