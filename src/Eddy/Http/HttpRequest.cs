using System.Buffers;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Eddy.Http.Internal;
using Eddy.Http.Parsing;
using Eddy.Tls;

namespace Eddy.Http;

/// <summary>
/// One request as the handler sees it: the head, complete, and the body as it arrives
/// (<see cref="Body"/>, or whole with <see cref="ReadBodyAsync"/>, <see cref="ReadTextAsync"/> and
/// <see cref="ReadJsonAsync{T}"/>). The head's bytes are kept as received; strings (target, header
/// values, decoded path and query) are made only when asked for, so a handler that reads nothing
/// allocates nothing. Valid until the handler's task completes. Loop thread only; one object per
/// connection, reused for each request.
/// </summary>
public sealed class HttpRequest
{
    // Bodies buffered whole up to this size use pooled arrays; larger ones get their own, which the GC
    // takes back after the request (a pool would keep the largest upload's memory for good).
    private const int MaxPooledBody = 1024 * 1024;

    private byte[] _head = [];          // request-line and field lines, copied from the connection's input
    private int _headLength;
    private int _methodStart, _methodLength, _targetStart, _targetLength;
    private HeaderRange[] _headers = [];
    private int _headerCount;
    private HeaderRange[] _trailers = [];
    private int _trailerCount;
    private byte[] _body = [];          // the body read whole by ReadBodyAsync
    private int _bodyLength;
    private bool _bodyBuffered;
    private string? _method, _target, _path, _queryString;
    private Dictionary<string, string>? _query;

    internal struct HeaderRange
    {
        public int NameStart, NameLength, ValueStart, ValueLength;
    }

    /// <summary>The method as an enum; <see cref="HttpVerb.Extension"/> for others (read <see cref="Method"/>).</summary>
    public HttpVerb Verb
    {
        get
        {
            ThrowIfDone();
            return field;
        }
        private set;
    }

    /// <summary>The method token, e.g. "GET".</summary>
    public string Method => _method is { } method && !IsDone ? method : _method = Verb switch
    {
        HttpVerb.Get => "GET",
        HttpVerb.Head => "HEAD",
        HttpVerb.Post => "POST",
        HttpVerb.Put => "PUT",
        HttpVerb.Delete => "DELETE",
        HttpVerb.Options => "OPTIONS",
        HttpVerb.Patch => "PATCH",
        HttpVerb.Trace => "TRACE",
        HttpVerb.Connect => "CONNECT",
        _ => Encoding.ASCII.GetString(_head, _methodStart, _methodLength),
    };

    /// <summary>The protocol version of the request-line: HTTP/1.0 or HTTP/1.1.</summary>
    public HttpProtocolVersion Version
    {
        get
        {
            ThrowIfDone();
            return field;
        }
        private set;
    }

    /// <summary>The request-target exactly as received (origin-form <c>/a/b?x=1</c>, or absolute-form, …).</summary>
    public string RawTarget => _target is { } target && !IsDone ? target : _target = Encoding.Latin1.GetString(TargetBytes);

    /// <summary>The request-target's bytes, as received.</summary>
    public ReadOnlySpan<byte> TargetBytes
    {
        get
        {
            ThrowIfDone();
            return _head.AsSpan(_targetStart, _targetLength);
        }
    }

    /// <summary>
    /// The path, percent-decoded (as UTF-8), without the query. For an absolute-form target
    /// (<c>http://host/a</c>) the scheme and authority are stripped first.
    /// </summary>
    public string Path => _path is { } path && !IsDone ? path : _path = HttpTarget.DecodePath(HttpTarget.PathBytes(TargetBytes));

    /// <summary>The query after <c>?</c>, still encoded; empty when there is none.</summary>
    public string QueryString => _queryString is { } query && !IsDone ? query : _queryString = Encoding.Latin1.GetString(HttpTarget.QueryBytes(TargetBytes));

    /// <summary>The query's parameters, decoded (<c>+</c> as space); the first value wins for a repeated name.</summary>
    public IReadOnlyDictionary<string, string> Query => _query is { } query && !IsDone ? query : _query = HttpTarget.ParseQuery(QueryString);

    /// <summary>The request's cookies, parsed from its <c>Cookie</c> fields when first asked for (see <see cref="HttpRequestCookies"/>).</summary>
    public HttpRequestCookies Cookies => _cookies ??= new HttpRequestCookies(this);

    private HttpRequestCookies? _cookies;

    /// <summary>The request's fields, in the order received.</summary>
    public HttpRequestHeaders Headers
    {
        get
        {
            ThrowIfDone();
            return new(this, trailers: false);
        }
    }

    /// <summary>The trailer fields of a chunked body (not headers: RFC 9110 §6.5), once the body has been read to its end; empty otherwise.</summary>
    public HttpRequestHeaders Trailers
    {
        get
        {
            ThrowIfDone();
            return new(this, trailers: true);
        }
    }

    /// <summary>The body, read as it arrives; <c>ReadAsync</c> returns 0 at its end (at once when there is none).</summary>
    public HttpRequestBody Body
    {
        get
        {
            ThrowIfDone();
            return BodyStream;
        }
    }

    /// <summary>The body stream, set once by the connection; unchecked, for the connection's own use.</summary>
    internal HttpRequestBody BodyStream { get; set; } = null!;

    /// <summary>How the body is framed: none, Content-Length, or chunked.</summary>
    public HttpBodyKind BodyKind
    {
        get
        {
            ThrowIfDone();
            return field;
        }
        private set;
    }

    /// <summary>The body's announced length: null when it is chunked (unknown until it ends), 0 when there is none.</summary>
    public long? ContentLength
    {
        get
        {
            ThrowIfDone();
            return field;
        }
        private set;
    }

    /// <summary>
    /// The largest body this request may have, or null for no limit; starts as
    /// <see cref="HttpServerOptions.MaxRequestBodySize"/>. A handler that takes large uploads raises or lifts it
    /// before it reads the body (Kestrel's <c>IHttpMaxRequestBodySizeFeature</c>); once reading has started it
    /// cannot change (<see cref="InvalidOperationException"/>).
    /// </summary>
    public long? MaxBodySize
    {
        get => Body is null ? null : BodySource.MaxBodySize;
        set
        {
            ThrowIfDone();
            BodySource.MaxBodySize = value;
        }
    }

    internal IRequestBodySource BodySource { get; set; } = null!;

    /// <summary>
    /// The rest of the body, read whole into a buffer the request owns (valid until the handler's task
    /// completes); the same memory again if called twice. Completes at once when the body is already in.
    /// Bounded by <see cref="MaxBodySize"/> (<see cref="HttpRejectException"/>, 413, beyond it).
    /// </summary>
    public ValueTask<ReadOnlyMemory<byte>> ReadBodyAsync(CancellationToken cancellationToken = default) =>
        IsDone ? throw new ObjectDisposedException(nameof(HttpRequest), RequestLifetime.Rule) :
        _bodyBuffered ? new ValueTask<ReadOnlyMemory<byte>>(_body.AsMemory(0, _bodyLength)) : BufferBodyAsync(cancellationToken);

    private async ValueTask<ReadOnlyMemory<byte>> BufferBodyAsync(CancellationToken cancellationToken)
    {
        if (ContentLength is long announced && announced <= (MaxBodySize ?? Array.MaxLength) && announced <= Array.MaxLength &&
            _body.Length - _bodyLength < announced)
        {
            GrowBody((int)announced - _bodyLength); // exactly the announced size: one array, no garbage from doubling
        }
        while (true)
        {
            if (_bodyLength == _body.Length)
            {
                GrowBody(Math.Max(4096, _body.Length));
            }
            int n = await Body.ReadAsync(_body.AsMemory(_bodyLength), cancellationToken);
            if (n == 0)
            {
                break;
            }
            _bodyLength += n;
        }
        _bodyBuffered = true;
        return _body.AsMemory(0, _bodyLength);
    }

    private void GrowBody(int more)
    {
        int size = checked(_bodyLength + more);
        byte[] bigger = size <= MaxPooledBody ? ArrayPool<byte>.Shared.Rent(size) : new byte[size];
        _body.AsSpan(0, _bodyLength).CopyTo(bigger);
        ReturnBody();
        _body = bigger;
    }

    private void ReturnBody()
    {
        if (_body.Length is > 0 and <= MaxPooledBody)
        {
            ArrayPool<byte>.Shared.Return(_body);
        }
        _body = [];
    }

    /// <summary>The rest of the body as UTF-8 text (invalid sequences become U+FFFD); see <see cref="ReadBodyAsync"/>.</summary>
    public async ValueTask<string> ReadTextAsync(CancellationToken cancellationToken = default)
    {
        ReadOnlyMemory<byte> body = await ReadBodyAsync(cancellationToken);
        return Encoding.UTF8.GetString(body.Span);
    }

    /// <summary>
    /// The rest of the body parsed as JSON with a source-generated <paramref name="typeInfo"/> (works under
    /// Native AOT); throws <see cref="JsonException"/> when it is not valid. See <see cref="ReadBodyAsync"/>.
    /// </summary>
    public async ValueTask<T?> ReadJsonAsync<T>(JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        ReadOnlyMemory<byte> body = await ReadBodyAsync(cancellationToken);
        return JsonSerializer.Deserialize(body.Span, typeInfo);
    }

    /// <summary>Whether the connection stays open after this request (HTTP/1.1 unless <c>Connection: close</c>).</summary>
    public bool KeepAlive
    {
        get
        {
            ThrowIfDone();
            return field;
        }
        private set;
    }

    /// <summary>The client's address.</summary>
    public EndPoint? RemoteEndPoint
    {
        get
        {
            ThrowIfDone();
            return field;
        }
        internal set;
    }

    /// <summary>The connection's TLS session when the request came over HTTPS (ALPN, TLS version, the client's certificate), else null.</summary>
    public TlsTransport? Tls
    {
        get
        {
            ThrowIfDone();
            return field;
        }
        internal set;
    }

    /// <summary>True when the request came over HTTPS.</summary>
    public bool IsHttps => Tls is not null;

    /// <summary><c>https</c> or <c>http</c>.</summary>
    public string Scheme => Tls is not null ? "https" : "http";

    /// <summary>
    /// What a layer above keeps per connection for its requests, opaque here (the web framework's route values,
    /// see <c>Eddy.Web.RouteValuesExtensions</c>): HTTP core knows nothing of routing.
    /// </summary>
    internal object? ApplicationState;

    /// <summary>
    /// The decoded path as memory: when the path has no percent-escapes it is widened into a buffer the
    /// request reuses, so routing a request allocates nothing; otherwise it is <see cref="Path"/>.
    /// </summary>
    public ReadOnlyMemory<char> PathMemory
    {
        get
        {
            ThrowIfDone();
            if (_path is not null)
            {
                return _path.AsMemory();
            }
            ReadOnlySpan<byte> bytes = HttpTarget.PathBytes(TargetBytes);
            if (bytes.IndexOf((byte)'%') >= 0 || !System.Text.Ascii.IsValid(bytes))
            {
                return Path.AsMemory();
            }
            if (_pathChars.Length < bytes.Length)
            {
                _pathChars = new char[Math.Max(bytes.Length, 64)];
            }
            System.Text.Ascii.ToUtf16(bytes, _pathChars, out int written);
            return _pathChars.AsMemory(0, written);
        }
    }

    private char[] _pathChars = [];

    internal int HeaderCount
    {
        get
        {
            ThrowIfDone();
            return _headerCount;
        }
    }

    internal int TrailerCount
    {
        get
        {
            ThrowIfDone();
            return _trailerCount;
        }
    }

    internal ReadOnlySpan<byte> HeaderName(int index, bool trailer) => Slice(trailer ? _trailers : _headers, index, name: true);

    internal ReadOnlySpan<byte> HeaderValue(int index, bool trailer) => Slice(trailer ? _trailers : _headers, index, name: false);

    private ReadOnlySpan<byte> Slice(HeaderRange[] ranges, int index, bool name)
    {
        ThrowIfDone();
        HeaderRange r = ranges[index];
        return name ? _head.AsSpan(r.NameStart, r.NameLength) : _head.AsSpan(r.ValueStart, r.ValueLength);
    }

    /// <summary>
    /// Set once the handler's task has completed, cleared when the connection's next request starts (loop
    /// thread only; see <see cref="RequestLifetime"/>). Every public member checks it: one load and a branch.
    /// </summary>
    internal bool IsDone;

    private void ThrowIfDone()
    {
        if (IsDone)
        {
            RequestLifetime.ThrowCompleted(nameof(HttpRequest));
        }
    }

    // ---- filled by the connection while parsing ----

    // The head is copied whole once it is parsed (SetHead); while it is parsed, its parts are recorded as
    // offsets into it, which the copy keeps valid: one copy per request instead of one per part.

    internal void BeginHead(HttpVerb verb, int methodStart, int methodLength, int targetStart, int targetLength, HttpProtocolVersion version)
    {
        Verb = verb;
        Version = version;
        _methodStart = methodStart;
        _methodLength = methodLength;
        _targetStart = targetStart;
        _targetLength = targetLength;
    }

    internal void AddHeader(int nameStart, int nameLength, int valueStart, int valueLength) =>
        Add(ref _headers, ref _headerCount, new HeaderRange { NameStart = nameStart, NameLength = nameLength, ValueStart = valueStart, ValueLength = valueLength });

    /// <summary>Copies the head the offsets given to <see cref="BeginHead"/> and <see cref="AddHeader(int, int, int, int)"/> point into.</summary>
    internal void SetHead(ReadOnlySpan<byte> head, in HttpRequestHead parsed)
    {
        _headLength = 0;
        AppendBytes(head);
        KeepAlive = parsed.KeepAlive;
        BodyKind = parsed.BodyKind;
        ContentLength = parsed.BodyKind == HttpBodyKind.Chunked ? null : parsed.ContentLength;
    }

    /// <summary>A trailer field of a chunked body, appended after the head.</summary>
    internal void AddTrailer(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        var range = new HeaderRange { NameStart = _headLength, NameLength = AppendBytes(name) };
        range.ValueStart = _headLength;
        range.ValueLength = AppendBytes(value);
        Add(ref _trailers, ref _trailerCount, range);
    }

    /// <summary>
    /// Forgets the request. Its buffers stay for the next request of the same batch (pipelining: no pool
    /// round trip per request) until <see cref="ReleaseBuffers"/>.
    /// </summary>
    internal void Reset()
    {
        _headLength = _bodyLength = 0;
        _bodyBuffered = false;
        if (_body.Length > MaxPooledBody)
        {
            _body = []; // not pooled: the GC takes it back
        }
        _headerCount = _trailerCount = 0;
        _method = _target = _path = _queryString = null;
        _query = null;
        _cookies = null;
        KeepAlive = false;
    }

    /// <summary>Returns the buffers to the pool: an idle connection holds none.</summary>
    internal void ReleaseBuffers()
    {
        ReturnArray(_head);
        _head = [];
        ReturnBody();
    }

    private int AppendBytes(ReadOnlySpan<byte> bytes)
    {
        Append(ref _head, ref _headLength, bytes, minimumSize: 512);
        return bytes.Length;
    }

    /// <summary>Appends to a pooled buffer, renting a larger one (at least double) when it is full.</summary>
    private static void Append(ref byte[] buffer, ref int length, ReadOnlySpan<byte> bytes, int minimumSize)
    {
        if (buffer.Length - length < bytes.Length)
        {
            byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(length + bytes.Length, Math.Max(buffer.Length * 2, minimumSize)));
            buffer.AsSpan(0, length).CopyTo(bigger);
            ReturnArray(buffer);
            buffer = bigger;
        }
        bytes.CopyTo(buffer.AsSpan(length));
        length += bytes.Length;
    }

    private static void Add(ref HeaderRange[] ranges, ref int count, HeaderRange range)
    {
        if (count == ranges.Length)
        {
            Array.Resize(ref ranges, Math.Max(16, count * 2));
        }
        ranges[count++] = range;
    }

    private static void ReturnArray(byte[] array)
    {
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
