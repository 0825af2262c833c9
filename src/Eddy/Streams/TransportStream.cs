using Eddy.Loop;

namespace Eddy.Streams;

/// <summary>
/// A <see cref="Stream"/> over an Eddy connection's reader and writer, so standard .NET code
/// (<see cref="StreamReader"/>, <see cref="Stream.CopyToAsync(Stream)"/>, <c>SslStream</c>, …) can run
/// over it. Use it from code the loop runs, through its async methods:
/// <list type="bullet">
/// <item><see cref="ReadAsync(Memory{byte}, CancellationToken)"/> is <see cref="AsyncStreamReader.ReadAsync"/>.</item>
/// <item><see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/> is <see cref="AsyncStreamWriter.Write"/>
/// then <see cref="AsyncStreamWriter.DrainAsync"/>: it completes at once unless the peer is slower.</item>
/// <item><see cref="FlushAsync(CancellationToken)"/> is <see cref="AsyncStreamWriter.DrainAsync"/>;
/// <see cref="Flush"/> does nothing (written bytes are already with the transport).</item>
/// <item>The synchronous Read and Write throw <see cref="NotSupportedException"/>: waiting for the network
/// on the loop thread would block the very loop that must deliver the bytes.</item>
/// <item>Dispose closes the writer (on the loop thread) unless the stream was created with leaveOpen.</item>
/// </list>
/// Every call must come from the loop thread; one that does not (say, a continuation that resumed on the
/// thread pool after <c>ConfigureAwait(false)</c> on a non-Eddy task) throws <see cref="InvalidOperationException"/>.
/// </summary>
public sealed class TransportStream : Stream
{
    private const string SyncMessage =
        "TransportStream does not support synchronous reads and writes: blocking the event loop's thread would " +
        "deadlock it (the loop itself must deliver the bytes). Use ReadAsync/WriteAsync from code running on the loop thread.";

    private readonly AsyncStreamReader _reader;
    private readonly AsyncStreamWriter _writer;
    private readonly EventLoop _loop;
    private readonly bool _leaveOpen;
    private bool _disposed;

    /// <param name="reader">The connection's reader.</param>
    /// <param name="writer">The connection's writer.</param>
    /// <param name="leaveOpen">True to leave the connection open when the stream is disposed.</param>
    public TransportStream(AsyncStreamReader reader, AsyncStreamWriter writer, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(writer);
        _reader = reader;
        _writer = writer;
        _loop = reader.Loop;
        _leaveOpen = leaveOpen;
    }

    /// <summary>The connection's reader, as given to the constructor.</summary>
    public AsyncStreamReader Reader => _reader;

    /// <summary>The connection's writer, as given to the constructor.</summary>
    public AsyncStreamWriter Writer => _writer;

    /// <summary>True until the stream is disposed.</summary>
    public override bool CanRead => !_disposed;

    /// <summary>True until the stream is disposed.</summary>
    public override bool CanWrite => !_disposed;

    /// <summary>False: a connection cannot seek.</summary>
    public override bool CanSeek => false;

    /// <summary>Throws <see cref="NotSupportedException"/>: a connection has no length.</summary>
    public override long Length => throw new NotSupportedException("A network stream has no length.");

    /// <summary>Throws <see cref="NotSupportedException"/>, read or set: a connection has no position.</summary>
    public override long Position
    {
        get => throw new NotSupportedException("A network stream has no position.");
        set => throw new NotSupportedException("A network stream has no position.");
    }

    /// <summary>
    /// <see cref="AsyncStreamReader.ReadAsync"/>: what is buffered, up to <paramref name="buffer"/>.Length bytes,
    /// waiting for data when none is; 0 at the end of the stream. Loop thread only; throws
    /// <see cref="ObjectDisposedException"/> after <see cref="Stream.Dispose()"/>.
    /// </summary>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Check();
        return _reader.ReadAsync(buffer, cancellationToken);
    }

    /// <summary>As <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>, as a Task (which allocates when the read waits).</summary>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <summary>
    /// <see cref="AsyncStreamWriter.Write"/> then <see cref="AsyncStreamWriter.DrainAsync"/>: the bytes go to the
    /// transport at once, and the task completes at once unless the transport paused writing (its buffer went over
    /// the high-water mark), else when it resumes; it throws the connection's error once the connection is lost.
    /// Loop thread only; throws <see cref="ObjectDisposedException"/> after <see cref="Stream.Dispose()"/>.
    /// </summary>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Check();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        _writer.Write(buffer.Span);
        return _writer.DrainAsync(cancellationToken);
    }

    /// <summary>As <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/>, as a Task.</summary>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <summary><see cref="AsyncStreamWriter.DrainAsync"/>: completes at once unless the transport paused writing, else when it resumes. Loop thread only.</summary>
    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Check();
        return _writer.DrainAsync(cancellationToken).AsTask();
    }

    /// <summary>Does nothing: written bytes are already with the transport, which sends them as soon as it can. <see cref="FlushAsync(CancellationToken)"/> waits for them to drain.</summary>
    public override void Flush()
    {
    }

    /// <summary>Throws <see cref="NotSupportedException"/>: a blocking read on the loop thread would deadlock the loop that must deliver the bytes. Use <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>.</summary>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException(SyncMessage);

    /// <inheritdoc cref="Read(byte[], int, int)"/>
    public override int Read(Span<byte> buffer) => throw new NotSupportedException(SyncMessage);

    /// <summary>Throws <see cref="NotSupportedException"/>: a blocking write on the loop thread would deadlock the loop. Use <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/>.</summary>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException(SyncMessage);

    /// <inheritdoc cref="Write(byte[], int, int)"/>
    public override void Write(ReadOnlySpan<byte> buffer) => throw new NotSupportedException(SyncMessage);

    /// <summary>Throws <see cref="NotSupportedException"/>: a connection cannot seek.</summary>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A network stream cannot seek.");

    /// <summary>Throws <see cref="NotSupportedException"/>: a connection has no length.</summary>
    public override void SetLength(long value) => throw new NotSupportedException("A network stream has no length.");

    /// <summary>
    /// Closes the writer (<see cref="AsyncStreamWriter.Close"/>: the connection closes once its buffered bytes are sent) unless the stream was created
    /// with leaveOpen. Idempotent; callable from any thread: off the loop thread the close is queued to the loop.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            if (!_leaveOpen)
            {
                // Dispose must not throw, and may come from a using block that ended off the loop thread.
                if (_loop.IsOnLoopThread)
                {
                    _writer.Close();
                }
                else
                {
                    try
                    {
                        _loop.CallSoonThreadSafe(static s => ((AsyncStreamWriter)s!).Close(), _writer);
                    }
                    catch (ObjectDisposedException)
                    {
                        // The loop is closed: so is every connection it ran.
                    }
                }
            }
        }
        base.Dispose(disposing);
    }

    private void Check()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_loop.IsOnLoopThread)
        {
            ThrowWrongThread();
        }
    }

    private void ThrowWrongThread() => throw new InvalidOperationException(
        $"TransportStream was called on thread {Environment.CurrentManagedThreadId}, but its connection belongs to {_loop.Name}: " +
        "call it from code running on the loop thread.");
}
