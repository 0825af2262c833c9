using System.Net;
using Eddy.Loop;
using Eddy.Loop.Internal;
using Eddy.Streams.Internal;
using Eddy.Transports;

namespace Eddy.Streams;

/// <summary>
/// The write side of a stream connection (asyncio's <c>StreamWriter</c>): a thin layer over its
/// <see cref="Transports.Transport"/> that adds flow control you can await. <see cref="Write"/> never
/// blocks and never waits: the transport sends at once what the socket takes and buffers the rest.
/// A producer that may outrun the peer awaits <see cref="DrainAsync"/> after writing, which waits only
/// while the transport's write buffer is above its high-water mark. Loop thread only.
/// <code>
/// writer.Write(data);
/// await writer.DrainAsync();   // completes at once unless the peer is slower than us
/// </code>
/// </summary>
public sealed class AsyncStreamWriter
{
    private static readonly Action<object?, CancellationToken> s_onCancel = static (s, _) => ((AsyncStreamWriter)s!).OnCancel();
    private static readonly Action<object?> s_onCancelOnLoop = static s => ((AsyncStreamWriter)s!).OnCancelOnLoop();

    private readonly EventLoop _loop;
    private readonly Transport _transport;

    private bool _writingPaused;   // between the protocol's PauseWriting and ResumeWriting
    private bool _connectionLost;
    private Exception? _lostError; // why the connection failed; null after a normal close

    // The first DrainAsync waiting while writing is paused uses a reusable source; any concurrent
    // others share one TaskCompletionSource (rare: one producer per connection is the common case).
    private StreamOperation<bool>? _drainOperation;
    private bool _drainPending;
    private CancellationToken _drainToken;
    private CancellationTokenRegistration _drainRegistration;
    private TaskCompletionSource? _moreDrains;

    private TaskCompletionSource? _closed; // created by the first CloseAsync that has to wait

    internal AsyncStreamWriter(EventLoop loop, Transport transport)
    {
        _loop = loop;
        _transport = transport;
    }

    /// <summary>The transport under this writer: for write-buffer limits, reading control, abort.</summary>
    public Transport Transport => _transport;

    /// <summary>True once the connection is closing or closed (by either side, or a failure).</summary>
    public bool IsClosing => _transport.IsClosing;

    /// <summary>True when <see cref="WriteEof"/> is supported.</summary>
    public bool CanWriteEof => _transport.CanWriteEof;

    /// <summary>The local address, or null once the connection is gone.</summary>
    public EndPoint? LocalEndPoint => _transport.LocalEndPoint;

    /// <summary>The peer's address, or null once the connection is gone.</summary>
    public EndPoint? RemoteEndPoint => _transport.RemoteEndPoint;

    /// <summary>
    /// Sends <paramref name="data"/>: at once if the socket takes it, else copied into the transport's
    /// buffer. Never blocks. Ignored once the connection is lost (<see cref="DrainAsync"/> reports that).
    /// Throws <see cref="InvalidOperationException"/> after <see cref="WriteEof"/>.
    /// </summary>
    public void Write(ReadOnlySpan<byte> data) => _transport.Write(data);

    /// <summary>Closes the write side (TCP FIN) once buffered bytes are sent; reading goes on (half-close).</summary>
    public void WriteEof() => _transport.WriteEof();

    /// <summary>Sends what is buffered, then closes the connection. Idempotent.</summary>
    public void Close() => _transport.Close();

    /// <summary>
    /// <see cref="Close"/>s, then waits until the connection is gone (the protocol heard ConnectionLost).
    /// Does not throw for a connection that failed: the reader's <see cref="AsyncStreamReader.Exception"/>
    /// says why, and a close that cleans up should not need a try/catch.
    /// </summary>
    public ValueTask CloseAsync()
    {
        Close();
        if (_connectionLost)
        {
            return default;
        }
        _closed ??= new TaskCompletionSource();
        return new ValueTask(_closed.Task);
    }

    /// <summary>
    /// Waits until the transport's write buffer is below its high-water mark: completes at once unless
    /// the transport paused writing (<see cref="Protocol.PauseWriting"/>), else when it resumes.
    /// Throws the connection's error if it failed, or an <see cref="IOException"/> if it is closed.
    /// </summary>
    public ValueTask DrainAsync(CancellationToken cancellationToken = default)
    {
        if (_loop.Debug)
        {
            _loop.CheckLoopCall(nameof(DrainAsync));
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        if (_connectionLost)
        {
            return ValueTask.FromException(LostError());
        }
        if (!_writingPaused)
        {
            return default;
        }
        if (_drainPending)
        {
            _moreDrains ??= new TaskCompletionSource();
            return new ValueTask(cancellationToken.CanBeCanceled ? _moreDrains.Task.WaitAsync(cancellationToken) : _moreDrains.Task);
        }
        StreamOperation<bool> operation = StreamOperation<bool>.Rent(ref _drainOperation, _loop);
        short token = operation.Start();
        _drainPending = true;
        _drainToken = cancellationToken;
        if (cancellationToken.CanBeCanceled)
        {
            _drainRegistration = cancellationToken.UnsafeRegister(s_onCancel, this);
        }
        return new ValueTask(operation, token);
    }

    /// <summary>For logs: the transport it writes to.</summary>
    public override string ToString() => $"AsyncStreamWriter({_transport})";

    internal void OnPauseWriting() => _writingPaused = true;

    internal void OnResumeWriting()
    {
        _writingPaused = false;
        WakeDrains(null);
    }

    /// <summary>The connection is gone: later drains fail. Waiters are woken by <see cref="OnConnectionLost"/>.</summary>
    internal void MarkConnectionLost(Exception? error)
    {
        _connectionLost = true;
        _lostError = error;
    }

    internal void OnConnectionLost()
    {
        WakeDrains(LostError());
        if (_closed is not null)
        {
            using var scope = new NoSynchronizationContextScope(); // see its summary: keeps BCL awaiters on the loop thread
            _closed.TrySetResult();
        }
    }

    private Exception LostError() => _lostError ?? new IOException("The connection is closed.");

    /// <summary>Completes every waiting drain. Their continuations run inline and may write and drain again.</summary>
    private void WakeDrains(Exception? error)
    {
        TaskCompletionSource? more = _moreDrains;
        _moreDrains = null;
        if (_drainPending)
        {
            _drainPending = false;
            _drainRegistration.Unregister();
            _drainRegistration = default;
            _drainToken = default;
            if (error is null)
            {
                _drainOperation!.SetResult(true);
            }
            else
            {
                _drainOperation!.SetException(error);
            }
        }
        if (more is null)
        {
            return;
        }
        using var scope = new NoSynchronizationContextScope(); // see its summary: keeps BCL awaiters on the loop thread
        if (error is null)
        {
            more.TrySetResult();
        }
        else
        {
            more.TrySetException(error);
        }
    }

    private void OnCancel() => _loop.RunOnLoop(s_onCancelOnLoop, this);

    private void OnCancelOnLoop()
    {
        // The drain that registered may be over, and another one started, by the time this runs.
        if (!_drainPending || !_drainToken.IsCancellationRequested)
        {
            return;
        }
        var canceled = new OperationCanceledException(_drainToken);
        _drainPending = false;
        _drainRegistration = default;
        _drainToken = default;
        _drainOperation!.SetException(canceled);
    }
}
