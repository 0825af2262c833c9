using Eddy.Http.Parsing.Internal;

namespace Eddy.Http.Parsing;

/// <summary>
/// Reads a request body whatever its framing (RFC 9112 §6.3) — none, Content-Length or chunked — behind one
/// <see cref="Decode{THandler}(ReadOnlySpan{byte}, int, ref THandler, out int, out ReadOnlySpan{byte})"/>, with the body-size limit enforced here and nowhere else (hyper's
/// <c>Decoder { Length | Chunked | Eof }</c>). Sans-I/O: it returns slices of the input it is given and
/// never copies, so the same code serves a server connection, a fuzzer and a test. One per connection,
/// reused with <see cref="Begin(in HttpRequestHead, long?)"/> for each request.
/// <code>
/// Begin(head, limit) -> Decode -> (Data | NeedMoreData)* -> Done
/// </code>
/// The first <see cref="Decode{THandler}(ReadOnlySpan{byte}, int, ref THandler, out int, out ReadOnlySpan{byte})"/> of a Content-Length body over the limit throws before it
/// consumes a byte; a chunked body throws at the chunk-size line that takes it over. Both are 413
/// (<see cref="HttpRejectReason.BodyTooLarge"/>); malformed chunked framing is 400. After a throw the
/// framing of whatever follows is unknown: the connection must close.
/// </summary>
public sealed class HttpBodyDecoder
{
    private readonly ChunkedDecoder _chunked;
    private ContentLengthDecoder _length;
    private long _contentLength;
    private long? _maxBodySize;
    private bool _started;

    /// <summary>A decoder under <see cref="HttpParserLimits.Default"/>.</summary>
    public HttpBodyDecoder()
        : this(HttpParserLimits.Default)
    {
    }

    /// <summary>The chunked framing (extensions, trailers) is bounded by <paramref name="limits"/>.</summary>
    public HttpBodyDecoder(HttpParserLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _chunked = new ChunkedDecoder(limits);
    }

    /// <summary>The framing of the current body.</summary>
    public HttpBodyKind Kind { get; private set; }

    /// <summary>The announced length of a Content-Length body; null for chunked (unknown) and 0 for none.</summary>
    public long? ContentLength => Kind == HttpBodyKind.Chunked ? null : _contentLength;

    /// <summary>Data bytes returned so far.</summary>
    public long BytesDecoded { get; private set; }

    /// <summary>The whole body has been returned (and for chunked, its trailers and final CRLF consumed).</summary>
    public bool IsComplete => Kind switch
    {
        HttpBodyKind.ContentLength => _length.IsComplete,
        HttpBodyKind.Chunked => _chunked.IsComplete,
        _ => true,
    };

    /// <summary>True once the first <see cref="Decode{THandler}(ReadOnlySpan{byte}, int, ref THandler, out int, out ReadOnlySpan{byte})"/> of the body was called.</summary>
    public bool HasStarted => _started;

    /// <summary>
    /// The most data bytes the body may hold (null: no limit). Set by <see cref="Begin(in HttpRequestHead, long?)"/>; may be changed
    /// until decoding starts (a route that takes uploads lifts it), not after.
    /// </summary>
    public long? MaxBodySize
    {
        get => _maxBodySize;
        set
        {
            if (_started)
            {
                throw new InvalidOperationException("The body limit cannot change once the body is being read.");
            }
            if (value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "A body limit is not negative.");
            }
            _maxBodySize = value;
        }
    }

    /// <summary>Starts the body that <paramref name="head"/> frames, under <paramref name="maxBodySize"/>.</summary>
    public void Begin(in HttpRequestHead head, long? maxBodySize) => Begin(head.BodyKind, head.ContentLength, maxBodySize);

    /// <summary>Starts a body of the given framing: <paramref name="contentLength"/> counts for <see cref="HttpBodyKind.ContentLength"/> only.</summary>
    public void Begin(HttpBodyKind kind, long contentLength, long? maxBodySize)
    {
        Kind = kind;
        _contentLength = kind == HttpBodyKind.ContentLength ? contentLength : 0;
        _length = new ContentLengthDecoder(_contentLength);
        if (kind == HttpBodyKind.Chunked)
        {
            _chunked.Reset();
        }
        _started = false;
        BytesDecoded = 0;
        MaxBodySize = maxBodySize;
    }

    /// <summary>As <see cref="Decode{THandler}(ReadOnlySpan{byte}, int, ref THandler, out int, out ReadOnlySpan{byte})"/>, with no cap on the data and trailer fields dropped.</summary>
    public BodyDecodeStatus Decode(ReadOnlySpan<byte> input, out int consumed, out ReadOnlySpan<byte> data)
    {
        var skip = default(DropTrailers);
        return Decode(input, int.MaxValue, ref skip, out consumed, out data);
    }

    /// <summary>
    /// Decodes from the start of <paramref name="input"/>: <see cref="BodyDecodeStatus.Data"/> with at most
    /// <paramref name="maxData"/> bytes of <paramref name="data"/>, the last of the <paramref name="consumed"/>
    /// ones; <see cref="BodyDecodeStatus.NeedMoreData"/>: call again with <c>input[consumed..]</c> and more;
    /// <see cref="BodyDecodeStatus.Done"/>: the body has ended and <c>input[consumed..]</c> is the next request.
    /// A chunked body's trailer fields go to <paramref name="trailers"/>.
    /// </summary>
    /// <exception cref="HttpRejectException">The body is over the limit (413) or its framing is malformed (400).</exception>
    public BodyDecodeStatus Decode<THandler>(ReadOnlySpan<byte> input, int maxData, scoped ref THandler trailers, out int consumed, out ReadOnlySpan<byte> data)
        where THandler : struct, IHttpTrailerHandler
    {
        if (!_started)
        {
            Start();
        }
        BodyDecodeStatus status;
        switch (Kind)
        {
            case HttpBodyKind.ContentLength:
                status = _length.Decode(input.Length > maxData ? input[..maxData] : input, out consumed, out data);
                break;
            case HttpBodyKind.Chunked:
                status = _chunked.Decode(input, maxData, ref trailers, out consumed, out data);
                break;
            default:
                consumed = 0;
                data = default;
                return BodyDecodeStatus.Done;
        }
        BytesDecoded += data.Length;
        return status;
    }

    /// <summary>The limit is final from the first read: a Content-Length over it is refused before any of the body is taken.</summary>
    private void Start()
    {
        _started = true;
        if (Kind == HttpBodyKind.ContentLength && _contentLength > _maxBodySize)
        {
            HttpReject.Throw(HttpRejectReason.BodyTooLarge);
        }
        _chunked.MaxBodySize = _maxBodySize;
    }

    private struct DropTrailers : IHttpTrailerHandler
    {
        public readonly void OnTrailer(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
        }
    }
}
