using System.Threading.Tasks.Sources;
using Eddy.Internal;
using Eddy.Loop.Internal;
using Eddy.Transports;

namespace Eddy.Tls.Internal;

/// <summary>
/// The stream under the <see cref="System.Net.Security.SslStream"/> of a <see cref="TlsTransport"/>: the
/// memory "BIO" of uvloop's <c>sslproto</c>. Records that arrive from the connection are
/// <see cref="Feed">fed</see> in by the transport's callbacks and buffered until SslStream reads them;
/// records SslStream writes go straight to the connection's transport. Nothing here blocks or starts work
/// elsewhere: a read with nothing buffered returns a pending <see cref="ValueTask{TResult}"/> that the next
/// <see cref="Feed"/> completes inline, on the loop thread, so SslStream's continuation (and the decrypted
/// bytes' delivery) runs there at once. Loop thread only.
/// </summary>
internal sealed class TlsRecordStream : Stream, IValueTaskSource<int>
{
    private readonly ByteBuffer _input = new();
    private ManualResetValueTaskSourceCore<int> _source; // RunContinuationsAsynchronously = false: inline on Feed
    private Memory<byte> _pendingBuffer;
    private bool _pending;
    private bool _eof;
    private Exception? _error;
    private byte[]? _cork;
    private int _corked;

    public TlsRecordStream(Transport connection)
    {
        Connection = connection;
    }

    /// <summary>The transport the records travel on (TCP, or any other).</summary>
    public Transport Connection { get; }

    /// <summary>Received bytes SslStream has not read yet.</summary>
    public int Buffered => _input.Length;

    /// <summary>Called when a read drains the buffer below the mark the owner watches (to resume reading).</summary>
    public Action? Drained { get; set; }

    /// <summary>The buffer size above which the owner pauses the connection's reading.</summary>
    public const int HighWaterMark = 64 * 1024;

    /// <summary>Bytes arrived from the connection.</summary>
    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_eof || _error is not null)
        {
            return;
        }
        _input.Append(data);
        CompletePending();
    }

    /// <summary>The connection's peer will send no more.</summary>
    public void FeedEof()
    {
        _eof = true;
        CompletePending();
    }

    /// <summary>The connection is gone: a pending and every later read fails with <paramref name="error"/>.</summary>
    public void Fail(Exception error)
    {
        _error ??= error;
        _input.Release();
        if (_pending)
        {
            _pending = false;
            _pendingBuffer = default;
            using var scope = new NoSynchronizationContextScope();
            _source.SetException(_error);
        }
    }

    /// <summary>Until <see cref="Uncork"/>, writes gather into one buffer (a large write is many records:
    /// one send for all of them, not one per record).</summary>
    public void Cork() => _corked++;

    /// <summary>Ends <see cref="Cork"/>: writes what was gathered to the connection.</summary>
    public void Uncork()
    {
        if (--_corked > 0 || _cork is null)
        {
            return;
        }
        byte[] gathered = _cork;
        int length = _corkLength;
        _cork = null;
        _corkLength = 0;
        try
        {
            Connection.Write(gathered.AsSpan(0, length));
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(gathered);
        }
    }

    private int _corkLength;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_pending)
        {
            throw new InvalidOperationException("A read is already pending on the TLS record stream.");
        }
        if (_error is not null)
        {
            return ValueTask.FromException<int>(_error);
        }
        if (!_input.IsEmpty)
        {
            return new ValueTask<int>(Take(buffer.Span));
        }
        if (_eof)
        {
            return new ValueTask<int>(0);
        }
        // Nothing buffered: wait for the next Feed. A zero-byte read (SslStream's way of waiting without a
        // buffer) completes with 0 once bytes are there.
        _pendingBuffer = buffer;
        _pending = true;
        _source.Reset();
        return new ValueTask<int>(this, _source.Version);
    }

    public override int Read(Span<byte> buffer)
    {
        if (_error is not null)
        {
            throw _error;
        }
        if (!_input.IsEmpty)
        {
            return Take(buffer);
        }
        if (_eof)
        {
            return 0;
        }
        throw new InvalidOperationException("A synchronous read on a TLS connection would wait for the network on the loop thread.");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_corked > 0)
        {
            Gather(buffer);
        }
        else
        {
            Connection.Write(buffer);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    // Records are with the transport as soon as they are written.
    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    int IValueTaskSource<int>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);

    protected override void Dispose(bool disposing)
    {
        _input.Release();
        base.Dispose(disposing);
    }

    private void CompletePending()
    {
        if (!_pending)
        {
            return;
        }
        int result = 0;
        if (!_input.IsEmpty && _pendingBuffer.Length > 0)
        {
            result = Take(_pendingBuffer.Span);
        }
        _pending = false;
        _pendingBuffer = default;
        // SslStream's continuations are ConfigureAwait(false); with the loop's synchronization context current,
        // .NET would queue the Task-based ones (the handshake's) to the thread pool instead of running them here.
        using var scope = new NoSynchronizationContextScope();
        _source.SetResult(result);
    }

    private int Take(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, _input.Length);
        _input.Span[..n].CopyTo(destination);
        bool wasHigh = _input.Length >= HighWaterMark;
        _input.Consume(n);
        if (_input.IsEmpty)
        {
            _input.Release(); // an idle connection holds no buffer
        }
        if (wasHigh && _input.Length < HighWaterMark)
        {
            Drained?.Invoke();
        }
        return n;
    }

    /// <summary>Copies into the cork buffer, writing it to the connection each time it fills (so an 8 MiB write
    /// is a few large sends, never one buffer as large as the write).</summary>
    private void Gather(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            _cork ??= System.Buffers.ArrayPool<byte>.Shared.Rent(CorkSize);
            int n = Math.Min(data.Length, _cork.Length - _corkLength);
            data[..n].CopyTo(_cork.AsSpan(_corkLength));
            _corkLength += n;
            data = data[n..];
            if (_corkLength == _cork.Length)
            {
                int length = _corkLength;
                _corkLength = 0;
                Connection.Write(_cork.AsSpan(0, length));
            }
        }
    }

    private const int CorkSize = 256 * 1024;
}
