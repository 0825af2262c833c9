using System.Net;
using Eddy.Loop;
using Eddy.Sockets;

namespace Eddy.Cli.Echo;

/// <summary>
/// Step 3: the select loop of step 2 becomes an <see cref="EventLoop"/>, and the server a small class
/// that registers callbacks with it (<see cref="EventLoop.AddReader"/> / <see cref="EventLoop.AddWriter"/>).
/// The loop owns waiting, timers and wake-ups; the server only says what to do when a socket is ready.
///
/// Run: <c>eddy echo --impl loop</c>.
/// </summary>
internal sealed class LoopEchoServer : IEchoServer
{
    private readonly EventLoop _loop = new(new EventLoopOptions { Name = "echo-loop" });
    private readonly TcpEchoServer _server;

    public LoopEchoServer(IPEndPoint endPoint, EchoOptions options)
    {
        try
        {
            _server = new TcpEchoServer(_loop, endPoint, options);
        }
        catch
        {
            _loop.Dispose();
            throw;
        }
    }

    public IPEndPoint LocalEndPoint => _server.LocalEndPoint;

    public void Serve()
    {
        _loop.RunForever();
        _server.Close();
        _loop.Close();
    }

    public void Stop() => _loop.Stop(); // thread-safe: wakes the loop through its eventfd

    public void Dispose() => Stop();
}

/// <summary>An echo server as callbacks on an event loop. Every method runs on the loop thread.</summary>
internal sealed class TcpEchoServer
{
    private static readonly Action<object?> s_onAcceptReady = static s => ((TcpEchoServer)s!).OnAcceptReady();
    private static readonly Action<object?> s_resumeAccepting = static s => ((TcpEchoServer)s!).StartAccepting();

    private readonly EventLoop _loop;
    private readonly NativeSocket _listener;
    private readonly EchoOptions _options;
    private readonly byte[] _buffer = new byte[64 * 1024]; // shared: callbacks never overlap on one loop
    private readonly HashSet<Connection> _connections = [];
    private bool _reportedFdExhaustion;

    public TcpEchoServer(EventLoop loop, IPEndPoint endPoint, EchoOptions options)
    {
        _loop = loop;
        _options = options;
        _listener = NativeSocket.CreateListener(endPoint, options.Backlog);
        LocalEndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        StartAccepting();
    }

    public IPEndPoint LocalEndPoint { get; }

    public void Close()
    {
        _loop.RemoveReader(_listener.Fd);
        _listener.Dispose();
        foreach (Connection connection in _connections.ToArray())
        {
            connection.Close();
        }
    }

    private void StartAccepting() => _loop.AddReader(_listener.Fd, s_onAcceptReady, this);

    private void OnAcceptReady()
    {
        // Accept what is queued, but a bounded number per tick so a flood cannot starve the other clients.
        for (int i = 0; i < 64; i++)
        {
            NativeSocket? socket = _listener.Accept(out Errno errno);
            if (socket is null)
            {
                if (errno is Errno.EMFILE or Errno.ENFILE)
                {
                    // Out of descriptors. Level-triggered readiness would call us again at once, spinning a
                    // core: stop watching the listener and try again in 100 ms, when clients may have left.
                    if (!_reportedFdExhaustion)
                    {
                        Console.Error.WriteLine($"eddy echo: accept: {errno}; pausing accepts for 100 ms at a time");
                        _reportedFdExhaustion = true;
                    }
                    _loop.RemoveReader(_listener.Fd);
                    _loop.CallLater(TimeSpan.FromMilliseconds(100), s_resumeAccepting, this);
                }
                return;
            }
            socket.TrySetNoDelay();
            _connections.Add(new Connection(this, socket));
            if (_options.Verbose)
            {
                _options.Output.WriteLine($"Accepted {socket.RemoteEndPoint}");
            }
        }
    }

    private sealed class Connection
    {
        private static readonly Action<object?> s_onReadable = static s => ((Connection)s!).OnReadable();
        private static readonly Action<object?> s_onWritable = static s => ((Connection)s!).OnWritable();

        private readonly TcpEchoServer _server;
        private readonly NativeSocket _socket;
        private byte[] _pending = [];
        private int _pendingOffset;
        private int _pendingCount;

        public Connection(TcpEchoServer server, NativeSocket socket)
        {
            _server = server;
            _socket = socket;
            server._loop.AddReader(socket.Fd, s_onReadable, this);
        }

        private void OnReadable()
        {
            byte[] buffer = _server._buffer;
            int n = _socket.Receive(buffer, out Errno errno);
            if (n == -1 && errno == Errno.EAGAIN)
            {
                return;
            }
            if (n <= 0)
            {
                Close();
                return;
            }
            if (_server._options.Verbose)
            {
                _server._options.Output.WriteLine($"Echoing {n} bytes to {_socket.RemoteEndPoint}");
            }
            int sent = _socket.Send(buffer.AsSpan(0, n), out errno);
            if (sent == -1)
            {
                if (errno != Errno.EAGAIN)
                {
                    Close();
                    return;
                }
                sent = 0;
            }
            if (sent < n)
            {
                // Backpressure: hold the rest, stop reading, and finish the write when the socket has room.
                KeepPending(buffer.AsSpan(sent, n - sent));
                _server._loop.RemoveReader(_socket.Fd);
                _server._loop.AddWriter(_socket.Fd, s_onWritable, this);
            }
        }

        private void OnWritable()
        {
            int sent = _socket.Send(_pending.AsSpan(_pendingOffset, _pendingCount), out Errno errno);
            if (sent == -1)
            {
                if (errno != Errno.EAGAIN)
                {
                    Close();
                }
                return;
            }
            _pendingOffset += sent;
            _pendingCount -= sent;
            if (_pendingCount == 0)
            {
                _server._loop.RemoveWriter(_socket.Fd);
                _server._loop.AddReader(_socket.Fd, s_onReadable, this);
            }
        }

        private void KeepPending(ReadOnlySpan<byte> rest)
        {
            if (_pending.Length < rest.Length)
            {
                _pending = new byte[rest.Length];
            }
            rest.CopyTo(_pending);
            _pendingOffset = 0;
            _pendingCount = rest.Length;
        }

        public void Close()
        {
            _server._loop.RemoveReader(_socket.Fd);
            _server._loop.RemoveWriter(_socket.Fd);
            _socket.Dispose();
            _server._connections.Remove(this);
        }
    }
}
