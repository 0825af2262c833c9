using System.Net;
using System.Net.Sockets;
using Eddy.Interop;
using Eddy.Loop;
using Eddy.Selectors;
using Eddy.Sockets;
using Eddy.Transports.Internal;

namespace Eddy.Transports;

/// <summary>
/// Listening sockets that accept connections into transports on one loop (asyncio's <c>Server</c>).
/// <see cref="Close"/> stops accepting; live connections go on until they close, and
/// <see cref="WaitClosedAsync"/> completes when the server is closed and the last one is gone;
/// <see cref="ShutdownAsync"/> does both and lets each connection finish what it is doing, up to a deadline.
/// With a <see cref="ConnectionLimit"/>, connections past it are accepted and closed at once.
/// Loop thread only.
/// </summary>
public sealed class Server : IConnectionOwner
{
    private static readonly TimeSpan FdExhaustionBackoff = TimeSpan.FromMilliseconds(100);

    private readonly EventLoop _loop;
    private readonly Func<Protocol> _protocolFactory;
    private readonly List<Listener> _listeners = [];
    private readonly HashSet<SocketTransport> _connections = [];
    private readonly TaskCompletionSource _closed = new();
    private readonly int _backlog;
    private bool _reportedFdExhaustion;
    private ConnectionLimit? _limit;

    internal Server(EventLoop loop, Func<Protocol> protocolFactory, IEnumerable<NativeSocket> listeners, int backlog)
    {
        _loop = loop;
        _protocolFactory = protocolFactory;
        _backlog = backlog;
        foreach (NativeSocket socket in listeners)
        {
            var listener = new Listener(this, socket);
            _listeners.Add(listener);
            listener.StartAccepting();
        }
        EndPoints = _listeners.Select(l => l.Socket.LocalEndPoint!).ToArray();
    }

    /// <summary>The addresses the server listens on, with the ports the kernel picked for port 0.</summary>
    public IReadOnlyList<EndPoint> EndPoints { get; }

    /// <summary>The first listening address's port (0 for a Unix socket).</summary>
    public int Port => EndPoints.Count > 0 && EndPoints[0] is IPEndPoint ip ? ip.Port : 0;

    /// <summary>True until <see cref="Close"/>.</summary>
    public bool IsServing { get; private set; } = true;

    /// <summary>Connections accepted and not yet closed.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>
    /// The cap on live connections, shared with other servers if they hold the same object; null (the default)
    /// for none. Set it before the first connection arrives.
    /// </summary>
    public ConnectionLimit? ConnectionLimit
    {
        get => _limit;
        set
        {
            if (_connections.Count > 0)
            {
                throw new InvalidOperationException("The connection limit must be set before the server has connections.");
            }
            _limit = value;
        }
    }

    /// <summary>Connections this server closed on arrival because <see cref="ConnectionLimit"/> was reached.</summary>
    public long RefusedConnectionCount { get; private set; }

    /// <summary>
    /// Descriptors kept free under the descriptor limit in force at the time (re-read once a second, so a limit
    /// lowered at run time counts): a connection accepted into one of the last this many is closed at once and
    /// counted in <see cref="RefusedConnectionCount"/>. 0 (the default): none. Set before accepting; loop thread.
    /// </summary>
    internal int DescriptorReserve { get; set; }

    /// <summary>Bytes written to this server's live connections and not yet sent (each transport's write buffer).</summary>
    public long BufferedWriteBytes
    {
        get
        {
            long total = 0;
            foreach (SocketTransport transport in _connections)
            {
                total += transport.WriteBufferSize;
            }
            return total;
        }
    }

    /// <summary>How many accept(2) calls failed for lack of descriptors (EMFILE/ENFILE) since the server started.</summary>
    public long FdExhaustionCount { get; private set; }

    /// <summary>Stops accepting and closes the listening sockets (removing a Unix socket's file). Live connections are not touched. Idempotent.</summary>
    public void Close()
    {
        if (!IsServing)
        {
            return;
        }
        IsServing = false;
        foreach (Listener listener in _listeners)
        {
            listener.Close();
        }
        if (_connections.Count == 0)
        {
            _closed.TrySetResult();
        }
    }

    /// <summary>Completes once the server is closed and every connection it accepted is gone.</summary>
    public Task WaitClosedAsync() => _closed.Task;

    /// <summary>
    /// Graceful shutdown: stops accepting, asks every connection to finish its work in flight and close
    /// (<see cref="Protocol.ShutdownRequested"/>), waits up to <paramref name="drainTimeout"/> for them to go,
    /// then aborts the rest. Completes when every connection is gone.
    /// </summary>
    public async Task ShutdownAsync(TimeSpan drainTimeout)
    {
        Close();
        foreach (SocketTransport transport in _connections.ToArray())
        {
            try
            {
                transport.Protocol.ShutdownRequested(transport);
            }
            catch (Exception e)
            {
                _loop.CallExceptionHandler(new LoopExceptionContext("protocol.ShutdownRequested() failed", e, source: this));
                transport.Abort();
            }
        }
        if (_connections.Count > 0)
        {
            using var drained = new CancellationTokenSource();
            Task delay = _loop.Delay(drainTimeout, drained.Token).AsTask();
            await Task.WhenAny(_closed.Task, delay);
            drained.Cancel();
        }
        AbortClients();
        await _closed.Task;
    }

    /// <summary>Closes every live connection gracefully (buffered data is sent first).</summary>
    public void CloseClients()
    {
        foreach (SocketTransport transport in _connections.ToArray())
        {
            transport.Close();
        }
    }

    /// <summary>Closes every live connection at once.</summary>
    public void AbortClients()
    {
        foreach (SocketTransport transport in _connections.ToArray())
        {
            transport.Abort();
        }
    }

    void IConnectionOwner.OnConnectionClosed(SocketTransport transport)
    {
        _connections.Remove(transport);
        _limit?.Release();
        TransportMetrics.OnClosed(transport);
        if (!IsServing && _connections.Count == 0)
        {
            _closed.TrySetResult();
        }
    }

    private void Accept(Listener listener)
    {
        // Bounded per readiness event, so a connection flood cannot starve the connections already served.
        for (int i = 0; i < _backlog && IsServing; i++)
        {
            NativeSocket? socket = listener.Socket.Accept(out Errno errno);
            if (socket is null)
            {
                OnAcceptFailed(listener, errno);
                return;
            }
            Admit(listener, socket);
        }
    }

    /// <summary>An accept failed: out of descriptors or memory (pause), the peer gone already (nothing), else a report.</summary>
    private void OnAcceptFailed(Listener listener, Errno errno)
    {
        if (errno is Errno.EMFILE or Errno.ENFILE or Errno.ENOBUFS or Errno.ENOMEM)
        {
            if (DescriptorReserve > 0)
            {
                DescriptorLimit.Current(refresh: true); // the limit may have been lowered under us
            }
            OnOutOfResources(listener, errno);
        }
        else if (errno is not (Errno.EAGAIN or Errno.ECONNABORTED or Errno.EPROTO or Errno.EPERM))
        {
            _loop.CallExceptionHandler(new LoopExceptionContext("accept failed", new PosixException(errno, "accept", listener.Socket.Fd), source: this));
        }
    }

    /// <summary>A connection accepted (by accept(2) or the ring): refused if it is in the reserve or over the limit, else served.</summary>
    private void Admit(Listener listener, NativeSocket socket)
    {
        if (!IsServing)
        {
            socket.Dispose(); // accepted by the ring while the listener was closing
            return;
        }
        if (DescriptorReserve > 0 && IsInReserve(socket.Fd))
        {
            // Among the last descriptors under the limit in force now: keep them for the runtime, which aborts
            // when it cannot start a thread (RELIABILITY.md).
            RefusedConnectionCount++;
            socket.Dispose();
            return;
        }
        if (_limit is not null && !_limit.TryAcquire())
        {
            // Over the limit: close at once rather than answer (an HTTP 503 would first need the request
            // read, which costs the work the limit is there to shed). The client sees EOF (or a reset if it
            // had sent data already) and can retry.
            RefusedConnectionCount++;
            if (TransportMetrics.RejectedConnections.Enabled)
            {
                TransportMetrics.RejectedConnections.Add(1, listener.MetricTags);
            }
            socket.Dispose();
            return;
        }
        socket.TrySetNoDelay();
        Protocol protocol;
        try
        {
            protocol = _protocolFactory();
        }
        catch (Exception e)
        {
            socket.Dispose();
            _limit?.Release();
            _loop.CallExceptionHandler(new LoopExceptionContext("protocol factory failed", e, source: this));
            return;
        }
        var transport = new SocketTransport(_loop, socket, protocol, this);
        _connections.Add(transport);
        TransportMetrics.OnAccepted(transport, listener.MetricTags);
        transport.Start();
    }

    /// <summary>
    /// Whether <paramref name="fd"/> is one of the last <see cref="DescriptorReserve"/> under the limit. Descriptors are
    /// numbered lowest-free first (open(2)), so every number below it is in use. The limit is read at most once a second
    /// on the way in, and again before refusing, so a limit raised back is honoured at once.
    /// </summary>
    private bool IsInReserve(int fd) =>
        (ulong)fd + (ulong)DescriptorReserve >= DescriptorLimit.Current() &&
        (ulong)fd + (ulong)DescriptorReserve >= DescriptorLimit.Current(refresh: true);

    /// <summary>
    /// Out of descriptors (or kernel memory). The listener stays readable, so level-triggered epoll would
    /// call us again at once and spin a core: stop watching it and try again after a pause, when
    /// connections may have closed (as asyncio's _accept_connection does; bpo-27906).
    /// </summary>
    private void OnOutOfResources(Listener listener, Errno errno)
    {
        FdExhaustionCount++;
        // Pause before reporting: should the report fail (it may need a descriptor too), the listener must not stay armed.
        listener.PauseAccepting(FdExhaustionBackoff);
        if (!_reportedFdExhaustion)
        {
            _reportedFdExhaustion = true;
            _loop.LogWarning($"accept on {listener.Socket.LocalEndPoint}: {errno}; pausing accepts for {FdExhaustionBackoff.TotalMilliseconds:F0} ms at a time until descriptors free up");
        }
    }

    /// <summary>
    /// A listening socket. On a loop whose selector does the ring's own I/O it accepts with one multishot
    /// <c>IORING_OP_ACCEPT</c> (a completion per connection, no accept(2) and no readiness to re-arm); else it
    /// accepts when epoll (or poll) says it is readable.
    /// </summary>
    private sealed class Listener : IRingOperationOwner
    {
        private static readonly Action<object?> s_onReadable = static s => ((Listener)s!).OnReadable();
        private static readonly Action<object?> s_resume = static s => ((Listener)s!).Resume();

        private readonly Server _server;
        private readonly IoUringSelector? _ring;
        private int _slot = -1;
        private bool _accepting;   // a multishot accept is in flight
        private bool _paused;      // out of descriptors: waiting for the resume timer
        private TimerHandle _resumeTimer;

        public Listener(Server server, NativeSocket socket)
        {
            _server = server;
            Socket = socket;
            MetricTags = TransportMetrics.TagsFor(socket.LocalEndPoint);
            if (server._loop.Selector is IoUringSelector { RingIo: true } ring)
            {
                _ring = ring;
            }
        }

        public NativeSocket Socket { get; }

        public KeyValuePair<string, object?>[] MetricTags { get; }

        public void StartAccepting()
        {
            if (!_server.IsServing)
            {
                return;
            }
            if (_ring is null)
            {
                _server._loop.AddReader(Socket.Fd, s_onReadable, this);
            }
            else if (!_accepting)
            {
                if (_slot < 0)
                {
                    _slot = _ring.Attach(this);
                }
                _accepting = true;
                _ring.QueueAccept(_slot, Socket.Fd);
            }
        }

        public void PauseAccepting(TimeSpan delay)
        {
            if (_ring is null)
            {
                _server._loop.RemoveReader(Socket.Fd);
            }
            else if (_accepting)
            {
                _ring.QueueCancel(_slot, RingOperation.Accept);
            }
            _paused = true;
            _resumeTimer = _server._loop.CallLater(delay, s_resume, this);
        }

        private void Resume()
        {
            _paused = false;
            StartAccepting();
        }

        void IRingOperationOwner.OnCompletion(RingOperation operation, int result, uint flags)
        {
            if ((flags & Libc.IORING_CQE_F_MORE) == 0)
            {
                _accepting = false;
            }
            if (result >= 0)
            {
                _server.Admit(this, Socket.Adopt(result));
            }
            else if (_server.IsServing && result != -(int)Errno.ECANCELED)
            {
                _server.OnAcceptFailed(this, (Errno)(-result));
            }
            if (!_accepting)
            {
                if (!_server.IsServing)
                {
                    _ring!.Detach(_slot); // closed, and nothing of ours is in flight any more
                    _slot = -1;
                }
                else if (!_paused)
                {
                    StartAccepting(); // the multishot accept ended (the kernel may end one at any time): go on
                }
            }
        }

        public void Close()
        {
            _resumeTimer.Cancel();
            if (_ring is null)
            {
                _server._loop.RemoveReader(Socket.Fd);
            }
            else if (_accepting)
            {
                // The ring holds the socket open until its accept is cancelled (at the next wait). Shutting it down
                // stops the listening now, so the port is free at once and no connection is accepted meanwhile.
                _ring.QueueCancel(_slot, RingOperation.Accept);
                try
                {
                    Socket.Shutdown(SocketShutdown.Both);
                }
                catch (PosixException)
                {
                    // Not listening any more in any case: the close below finishes it.
                }
            }
            else if (_slot >= 0)
            {
                _ring.Detach(_slot);
                _slot = -1;
            }
            string? unixPath = Socket.AddressFamily == AddressFamily.Unix ? (Socket.LocalEndPoint as UnixDomainSocketEndPoint)?.ToString() : null;
            Socket.Dispose();
            if (!string.IsNullOrEmpty(unixPath) && unixPath[0] != '\0' && unixPath[0] != '@')
            {
                try
                {
                    File.Delete(unixPath);
                }
                catch (IOException)
                {
                    // Someone else's file by now, or already gone.
                }
            }
        }

        private void OnReadable() => _server.Accept(this);
    }
}
