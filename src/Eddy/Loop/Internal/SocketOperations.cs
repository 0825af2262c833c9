using System.Net;
using Eddy.Sockets;

namespace Eddy.Loop.Internal;

/// <summary>
/// What a loop keeps for a socket used with its awaitables: the fd's watcher, one reusable operation
/// per kind, and a readiness hint. At most one read-side (recv/accept) and one write-side (send/connect)
/// operation is pending at a time, as with one reader and one writer per fd.
/// </summary>
internal sealed class SocketLoopState : IDisposable
{
    public SocketLoopState(EventLoop loop, NativeSocket socket)
    {
        Loop = loop;
        Socket = socket;
        Watcher = loop.GetOrCreateWatcher(socket.Fd);
    }

    public EventLoop Loop { get; }

    public NativeSocket Socket { get; }

    public FdWatcher Watcher { get; }

    /// <summary>
    /// False once a recv came back short of its buffer (the socket is probably drained), so the next
    /// recv waits for readiness instead of trying a syscall that would say EAGAIN. Set again by a read
    /// event. Level-triggered interest stays armed meanwhile, so nothing that arrives is missed; a wrong
    /// guess costs one extra select round, never a lost read.
    /// </summary>
    public bool ReadMaybeReady = true;

    private RecvOperation? _recv;
    private AcceptOperation? _accept;
    private SendOperation? _send;
    private ConnectOperation? _connect;

    public RecvOperation Recv => _recv ??= new RecvOperation(this);

    public AcceptOperation Accept => _accept ??= new AcceptOperation(this);

    public SendOperation Send => _send ??= new SendOperation(this);

    public ConnectOperation Connect => _connect ??= new ConnectOperation(this);

    /// <summary>
    /// Checked before an operation tries its syscall: a second receive must not take the pending one's data,
    /// nor a second send interleave its bytes with the pending one's, and a socket belongs to one loop.
    /// </summary>
    public void ThrowIfBusy(EventLoop loop, bool readSide, string operation)
    {
        if (Loop != loop)
        {
            throw new InvalidOperationException($"fd {Socket.Fd} is used by another event loop ({Loop.Name}); a socket belongs to one loop.");
        }
        if (readSide)
        {
            ThrowIfReadPending(operation);
        }
        else
        {
            ThrowIfWritePending(operation);
        }
    }

    public void ThrowIfReadPending(string operation)
    {
        if (Watcher.Reader is not null)
        {
            throw new InvalidOperationException($"{operation}(fd {Socket.Fd}): a receive or accept is already pending on this socket.");
        }
    }

    public void ThrowIfWritePending(string operation)
    {
        if (Watcher.Writer is not null)
        {
            throw new InvalidOperationException($"{operation}(fd {Socket.Fd}): a send or connect is already pending on this socket.");
        }
    }

    /// <summary>The socket is closing: unregister it and fail what is pending.</summary>
    public void Dispose()
    {
        int fd = Socket.Fd;
        if (!Loop.IsClosed)
        {
            Loop.ForgetFd(fd);
        }
        var closed = new ObjectDisposedException(nameof(NativeSocket), $"fd {fd} was closed while an operation was pending on it.");
        _recv?.Abort(closed);
        _accept?.Abort(closed);
        _send?.Abort(closed);
        _connect?.Abort(closed);
    }
}

/// <summary>Base of the per-socket operations: arming, cancellation, completion.</summary>
internal abstract class SocketOperation<T> : LoopValueTaskSource<T>
{
    private CancellationTokenRegistration _registration;
    private CancellationToken _cancellationToken;
    private readonly bool _isReadSide;

    protected SocketOperation(SocketLoopState state, bool isReadSide) : base(state.Loop)
    {
        State = state;
        _isReadSide = isReadSide;
        OnReadyCallback = static s => ((SocketOperation<T>)s!).OnReady();
    }

    protected SocketLoopState State { get; }

    private Action<object?> OnReadyCallback { get; }

    /// <summary>Waits for readiness; <see cref="OnReady"/> then retries the syscall.</summary>
    protected short Wait(CancellationToken cancellationToken)
    {
        short token = Prepare();
        _cancellationToken = cancellationToken;
        if (_isReadSide)
        {
            Loop.ArmReader(State.Watcher, OnReadyCallback, this);
        }
        else
        {
            Loop.ArmWriter(State.Watcher, OnReadyCallback, this);
        }
        if (cancellationToken.CanBeCanceled)
        {
            _registration = RegisterCancellation(cancellationToken);
        }
        return token;
    }

    /// <summary>The fd is ready: try the syscall; return without finishing when it still would block.</summary>
    protected abstract void OnReady();

    protected void Finish(T result)
    {
        Release();
        Complete(result);
    }

    protected void Finish(Exception error)
    {
        Release();
        Fail(error);
    }

    public void Abort(Exception error)
    {
        if (IsPending)
        {
            Finish(error);
        }
    }

    protected override void OnCancellationRequested()
    {
        if (IsPending && _cancellationToken.IsCancellationRequested)
        {
            Finish(new OperationCanceledException(_cancellationToken));
        }
    }

    private void Release()
    {
        // Lazy: the interest stays armed for the next operation; an event with no operation removes it.
        if (_isReadSide)
        {
            Loop.DisarmReaderLazily(State.Watcher);
        }
        else
        {
            Loop.DisarmWriterLazily(State.Watcher);
        }
        _registration.Unregister();
        _registration = default;
        _cancellationToken = default;
    }
}

internal sealed class RecvOperation(SocketLoopState state) : SocketOperation<int>(state, isReadSide: true)
{
    private Memory<byte> _buffer;

    public ValueTask<int> Start(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        State.ThrowIfReadPending("SockRecvAsync");
        _buffer = buffer;
        return new ValueTask<int>(this, Wait(cancellationToken));
    }

    protected override void OnReady()
    {
        int n = State.Socket.Receive(_buffer.Span, out Errno errno);
        if (n == -1 && errno == Errno.EAGAIN)
        {
            return; // spurious wake-up
        }
        State.ReadMaybeReady = n == _buffer.Length || n == 0;
        _buffer = default;
        if (n >= 0)
        {
            Finish(n);
        }
        else
        {
            Finish(new PosixException(errno, "recv", State.Socket.Fd));
        }
    }
}

internal sealed class AcceptOperation(SocketLoopState state) : SocketOperation<NativeSocket>(state, isReadSide: true)
{
    public ValueTask<NativeSocket> Start(CancellationToken cancellationToken)
    {
        State.ThrowIfReadPending("SockAcceptAsync");
        return new ValueTask<NativeSocket>(this, Wait(cancellationToken));
    }

    protected override void OnReady()
    {
        NativeSocket? accepted = State.Socket.Accept(out Errno errno);
        if (accepted is not null)
        {
            Finish(accepted);
        }
        else if (errno is not (Errno.EAGAIN or Errno.ECONNABORTED))
        {
            Finish(new PosixException(errno, "accept", State.Socket.Fd));
        }
        // EAGAIN: another acceptor took it; ECONNABORTED: the client gave up in the queue (accept(2)). Keep waiting.
    }
}

internal sealed class SendOperation(SocketLoopState state) : SocketOperation<bool>(state, isReadSide: false)
{
    private ReadOnlyMemory<byte> _remaining;

    public ValueTask Start(ReadOnlyMemory<byte> remaining, CancellationToken cancellationToken)
    {
        State.ThrowIfWritePending("SockSendAllAsync");
        _remaining = remaining;
        return new ValueTask(this, Wait(cancellationToken));
    }

    protected override void OnReady()
    {
        while (!_remaining.IsEmpty)
        {
            int n = State.Socket.Send(_remaining.Span, out Errno errno);
            if (n == -1)
            {
                if (errno == Errno.EAGAIN)
                {
                    return; // the buffer filled again: wait for the next writable event
                }
                _remaining = default;
                Finish(new PosixException(errno, "send", State.Socket.Fd));
                return;
            }
            _remaining = _remaining[n..];
        }
        Finish(true);
    }
}

internal sealed class ConnectOperation(SocketLoopState state) : SocketOperation<bool>(state, isReadSide: false)
{
    private EndPoint? _endPoint;

    public ValueTask Start(EndPoint endPoint, CancellationToken cancellationToken)
    {
        State.ThrowIfWritePending("SockConnectAsync");
        _endPoint = endPoint;
        return new ValueTask(this, Wait(cancellationToken));
    }

    protected override void OnReady()
    {
        // connect(2): "the socket is writable when the connection completes; read SO_ERROR for the outcome".
        Errno errno = State.Socket.GetPendingError();
        EndPoint? endPoint = _endPoint;
        _endPoint = null;
        if (errno == Errno.None)
        {
            Finish(true);
        }
        else
        {
            Finish(new PosixException(errno, $"connect to {endPoint}", State.Socket.Fd));
        }
    }
}
