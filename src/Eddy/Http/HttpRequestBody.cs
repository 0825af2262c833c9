using Eddy.Http.Internal;
using Eddy.Http.Parsing;

namespace Eddy.Http;

/// <summary>
/// The request body as it arrives: a read-only <see cref="Stream"/> over the connection, so BCL code
/// (<c>JsonSerializer.DeserializeAsync</c>, <c>CopyToAsync</c>, <c>PipeReader.Create</c>) works on it.
/// <see cref="ReadAsync(Memory{byte}, CancellationToken)"/> copies what has arrived into the caller's
/// buffer, or waits on the loop for more; it returns 0 at the end of the body (at once for a request
/// without one). Allocation-free when awaited as a <see cref="ValueTask{TResult}"/>.
/// <para>
/// Reading is what lets the body in: the connection holds at most
/// <see cref="HttpServerOptions.MaxRequestBufferSize"/> bytes the handler has not read, then stops reading
/// from the socket, so an upload of any size costs bounded memory. The first read sends
/// <c>100 Continue</c> to a client that asked for it, and enforces <see cref="HttpRequest.MaxBodySize"/>.
/// A body that breaks its framing or its limit throws <see cref="HttpRejectException"/>; left uncaught,
/// the server answers with its status (400, 408, 413) and closes the connection.
/// </para>
/// <para>
/// Synchronous reads are refused when they would wait (they would block the loop). One object per
/// connection, valid until the handler's task completes; disposing it does nothing. Loop thread only.
/// </para>
/// </summary>
public sealed class HttpRequestBody : Stream
{
    private readonly IRequestBodySource _source;

    internal HttpRequestBody(IRequestBodySource source) => _source = source;

    /// <summary>Set while the request is done (its handler completed): see <see cref="RequestLifetime"/>. Loop thread only.</summary>
    internal bool IsDone;

    private IRequestBodySource Source
    {
        get
        {
            if (IsDone)
            {
                RequestLifetime.ThrowCompleted(nameof(HttpRequestBody));
            }
            return _source;
        }
    }

    /// <summary>Body bytes read so far.</summary>
    public long BytesRead => Source.BodyBytesRead;

    /// <summary>True once the whole body has been read (at once for a request without one).</summary>
    public bool IsCompleted => Source.IsBodyCompleted;

    /// <summary>True: the body is read.</summary>
    public override bool CanRead => true;

    /// <summary>False: the body arrives once, in order.</summary>
    public override bool CanSeek => false;

    /// <summary>False: the body is read-only.</summary>
    public override bool CanWrite => false;

    /// <summary>Reads what has arrived (at least one byte), waiting on the loop when nothing has; 0 at the end of the body.</summary>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Source.ReadBodyAsync(buffer, cancellationToken);

    /// <summary>As <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>, as a <see cref="Task{TResult}"/> (allocates; prefer the ValueTask overload).</summary>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <summary>Reads what has already arrived; throws <see cref="InvalidOperationException"/> if it would have to wait.</summary>
    public override int Read(Span<byte> buffer)
    {
        int n = Source.TryReadBody(buffer);
        return n >= 0 ? n : throw new InvalidOperationException("A synchronous read of the request body would block the event loop: use ReadAsync.");
    }

    /// <summary>As <see cref="Read(Span{byte})"/>: only what has already arrived.</summary>
    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    /// <summary>Not supported: the body is read as it arrives and may be chunked (see <see cref="HttpRequest.ContentLength"/>).</summary>
    public override long Length => throw new NotSupportedException("The request body is read as it arrives; its length may be unknown (see HttpRequest.ContentLength).");

    /// <summary>The bytes read so far; setting it is not supported.</summary>
    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException("The request body cannot seek.");
    }

    /// <summary>Does nothing: there is nothing to write.</summary>
    public override void Flush()
    {
    }

    /// <summary>Not supported: the body cannot seek.</summary>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("The request body cannot seek.");

    /// <summary>Not supported: the body is read-only.</summary>
    public override void SetLength(long value) => throw new NotSupportedException("The request body is read-only.");

    /// <summary>Not supported: the body is read-only.</summary>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The request body is read-only.");

    /// <summary>Does nothing: the connection owns the body.</summary>
    protected override void Dispose(bool disposing)
    {
    }
}

/// <summary>What the body stream reads from: the connection that carries the request.</summary>
internal interface IRequestBodySource
{
    long BodyBytesRead { get; }

    bool IsBodyCompleted { get; }

    long? MaxBodySize { get; set; }

    ValueTask<int> ReadBodyAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Copies body bytes that have arrived; 0 at the end of the body; -1 when a read would have to wait.</summary>
    int TryReadBody(Span<byte> buffer);
}
