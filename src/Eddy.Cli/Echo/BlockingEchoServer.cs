using System.Net;
using System.Net.Sockets;

namespace Eddy.Cli.Echo;

/// <summary>
/// Step 1 of the tutorial: a blocking echo server. It accepts one client, echoes until that client
/// closes, and only then accepts the next; everyone else waits in the listen queue. This is the
/// baseline that collapses under concurrency (see README: `eddy load tcp` with 1,000 clients).
///
/// Run: <c>eddy echo --impl blocking</c>, then <c>eddy load tcp 127.0.0.1:8888 -c 20</c>.
/// </summary>
internal sealed class BlockingEchoServer : IEchoServer
{
    private readonly Socket _listener;
    private readonly EchoOptions _options;
    private volatile bool _stopping;
    private Socket? _client; // the one client being served

    public BlockingEchoServer(IPEndPoint endPoint, EchoOptions options)
    {
        _options = options;
        _listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _listener.Bind(endPoint);
            _listener.Listen(options.Backlog);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        LocalEndPoint = (IPEndPoint)_listener.LocalEndPoint!;
    }

    public IPEndPoint LocalEndPoint { get; }

    public void Serve()
    {
        var buffer = new byte[64 * 1024];
        while (!_stopping)
        {
            Socket client;
            try
            {
                client = _listener.Accept(); // blocks: nobody else is served meanwhile
            }
            catch (Exception) when (_stopping)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.ConnectionAborted)
            {
                Thread.Sleep(10); // out of descriptors, or the client left the queue: try again shortly
                continue;
            }
            client.NoDelay = true; // without it, echoing a message in pieces stalls ~40 ms on Nagle + delayed ACK
            _client = client;
            using (client)
            {
                if (_options.Verbose)
                {
                    _options.Output.WriteLine($"Connected by {client.RemoteEndPoint}");
                }
                Echo(client, buffer);
            }
            _client = null;
        }
    }

    private void Echo(Socket client, byte[] buffer)
    {
        try
        {
            while (true)
            {
                int n = client.Receive(buffer); // blocks until data or EOF
                if (n == 0)
                {
                    return;
                }
                if (_options.Verbose)
                {
                    _options.Output.WriteLine($"Echoing {n} bytes to {client.RemoteEndPoint}");
                }
                int sent = 0;
                while (sent < n)
                {
                    sent += client.Send(buffer, sent, n - sent, SocketFlags.None); // blocks while the send buffer is full
                }
            }
        }
        catch (SocketException e)
        {
            // A reset or broken pipe ends this client only.
            if (_options.Verbose)
            {
                _options.Output.WriteLine($"Client error: {e.SocketErrorCode}");
            }
        }
        catch (ObjectDisposedException) when (_stopping)
        {
        }
    }

    public void Stop()
    {
        _stopping = true;
        _listener.Dispose(); // wakes a blocked Accept
        _client?.Dispose(); // and a blocked Receive
    }

    public void Dispose() => Stop();
}
