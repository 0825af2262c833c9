using System.Net;
using Eddy.Selectors;
using Eddy.Sockets;

namespace Eddy.Cli.Echo;

/// <summary>
/// Step 2: one thread serves every client by asking a <see cref="Selector"/> (epoll) which sockets are
/// ready and calling the callback stored with each registration — the tutorial's <c>selectors</c> example.
/// The <c>while</c> loop in <see cref="Serve"/> is already an event loop in all but name.
///
/// Unlike the tutorial's <c>conn.send(data)  # Hope it won't block</c>, a send that does not fit in the
/// socket buffer keeps the rest, stops reading that client and waits for the socket to become writable.
///
/// Run: <c>eddy echo --impl selector</c>.
/// </summary>
internal sealed class SelectorEchoServer : IEchoServer
{
    // What a registration's data holds: the function to call when its socket is ready.
    private delegate void ReadyCallback(Interest events);

    private readonly Selector _selector = Selector.Create();
    private readonly NativeSocket _listener;
    private readonly EchoOptions _options;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly HashSet<Client> _clients = [];
    private volatile bool _stopping;

    public SelectorEchoServer(IPEndPoint endPoint, EchoOptions options)
    {
        _options = options;
        try
        {
            _listener = NativeSocket.CreateListener(endPoint, options.Backlog);
        }
        catch
        {
            _selector.Dispose();
            throw;
        }
        LocalEndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _selector.Register(_listener.Fd, Interest.Read, (ReadyCallback)(_ => Accept()));
    }

    public IPEndPoint LocalEndPoint { get; }

    public void Serve()
    {
        var events = new SelectorEvent[256];
        while (!_stopping)
        {
            // A bounded wait so Stop is noticed; the EventLoop (step 3) wakes up on an eventfd instead.
            int n = _selector.Select(events, timeoutMs: 200);
            for (int i = 0; i < n; i++)
            {
                var callback = (ReadyCallback)events[i].Key.Data!;
                callback(events[i].Events);
            }
        }
        foreach (Client client in _clients.ToArray())
        {
            client.Close();
        }
        _selector.Unregister(_listener.Fd);
        _listener.Dispose();
        _selector.Dispose();
    }

    public void Stop() => _stopping = true;

    public void Dispose() => Stop();

    private void Accept()
    {
        NativeSocket? socket = _listener.Accept(out Errno errno);
        if (socket is null)
        {
            if (errno is Errno.EMFILE or Errno.ENFILE)
            {
                Thread.Sleep(10); // out of descriptors: give other clients a chance to close
            }
            return; // EAGAIN: someone else took it
        }
        socket.TrySetNoDelay();
        var client = new Client(this, socket);
        _clients.Add(client);
        if (_options.Verbose)
        {
            _options.Output.WriteLine($"Accepted {socket.RemoteEndPoint}");
        }
    }

    /// <summary>One connection: echoes what it reads; holds what the socket could not take yet.</summary>
    private sealed class Client
    {
        private readonly SelectorEchoServer _server;
        private readonly NativeSocket _socket;
        private byte[] _pending = [];
        private int _pendingOffset;
        private int _pendingCount;

        public Client(SelectorEchoServer server, NativeSocket socket)
        {
            _server = server;
            _socket = socket;
            server._selector.Register(socket.Fd, Interest.Read, (ReadyCallback)OnReady);
        }

        private void OnReady(Interest events)
        {
            if ((events & Interest.Write) != 0)
            {
                Flush();
            }
            else
            {
                Read();
            }
        }

        private void Read()
        {
            byte[] buffer = _server._buffer;
            int n = _socket.Receive(buffer, out Errno errno);
            if (n == -1 && errno == Errno.EAGAIN)
            {
                return;
            }
            if (n <= 0)
            {
                Close(); // 0: the client closed; -1: reset or another error
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
                // The socket buffer is full: keep the rest, and stop reading until it is written.
                Keep(buffer.AsSpan(sent, n - sent));
                _server._selector.Modify(_socket.Fd, Interest.Write);
            }
        }

        private void Flush()
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
                _server._selector.Modify(_socket.Fd, Interest.Read);
            }
        }

        private void Keep(ReadOnlySpan<byte> rest)
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
            if (_server._options.Verbose)
            {
                _server._options.Output.WriteLine($"Closing fd {_socket.Fd}");
            }
            _server._selector.Unregister(_socket.Fd); // unregister before closing
            _socket.Dispose();
            _server._clients.Remove(this);
        }
    }
}
