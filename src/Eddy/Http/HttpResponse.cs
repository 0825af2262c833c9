using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Eddy.Http.Internal;
using Microsoft.Win32.SafeHandles;

namespace Eddy.Http;

/// <summary>
/// The response to one request. Set <see cref="StatusCode"/> and <see cref="Headers"/>, then either
/// send a whole body at once (<see cref="Text"/>, <see cref="Bytes"/>, <see cref="Json{T}"/>,
/// <see cref="Redirect"/>) — framed with Content-Length — or stream it (<see cref="WriteAsync"/>) —
/// framed with chunked transfer coding. A handler that sends nothing gets an empty body. The
/// <c>Date</c> and <c>Server</c> fields are added for you. Loop thread only; one object per connection,
/// reset between requests.
/// </summary>
public sealed partial class HttpResponse
{
    private static readonly byte[] s_contentLength = "Content-Length: "u8.ToArray();
    private static readonly byte[] s_contentType = "Content-Type: "u8.ToArray();
    private static readonly byte[] s_chunked = "Transfer-Encoding: chunked\r\n"u8.ToArray();
    private static readonly byte[] s_connectionClose = "Connection: close\r\n"u8.ToArray();
    private static readonly byte[] s_crlf = "\r\n"u8.ToArray();
    private static readonly byte[] s_lastChunk = "0\r\n\r\n"u8.ToArray();

    private readonly ResponseBuffer _output;
    private readonly IResponseSink _sink;
    private ArrayBufferWriter<byte>? _jsonBuffer;
    private Utf8JsonWriter? _jsonWriter;

    internal HttpResponse(ResponseBuffer output, IResponseSink sink)
    {
        _output = output;
        _sink = sink;
    }

    /// <summary>The status code; 200 unless set. Read-only once the head is sent.</summary>
    public int StatusCode
    {
        get
        {
            ThrowIfDone();
            return _statusCode;
        }
        set
        {
            ThrowIfStarted();
            if ((uint)(value - 100) >= 500)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "An HTTP status code is 100 to 599.");
            }
            _statusCode = value;
        }
    }

    private int _statusCode = 200;

    /// <summary>Fields to send, in order. <c>Content-Length</c>, <c>Transfer-Encoding</c>, <c>Date</c> and <c>Server</c> are Eddy's to set.</summary>
    public HttpResponseHeaders Headers
    {
        get
        {
            ThrowIfDone();
            return _headers;
        }
    }

    private readonly HttpResponseHeaders _headers = new();

    /// <summary>Sets and deletes cookies: each call adds a <c>Set-Cookie</c> field to <see cref="Headers"/> (see <see cref="HttpResponseCookies"/>).</summary>
    public HttpResponseCookies Cookies => _cookies ??= new HttpResponseCookies(this);

    private HttpResponseCookies? _cookies;

    /// <summary>The Content-Type field, or null.</summary>
    public string? ContentType
    {
        get
        {
            ThrowIfDone();
            return field;
        }
        set
        {
            ThrowIfDone();
            field = value;
        }
    }

    /// <summary>True once the status line and fields are in the output: they can no longer change.</summary>
    public bool HasStarted
    {
        get
        {
            ThrowIfDone();
            return field;
        }
        private set;
    }

    /// <summary>True once the whole body is in the output (a buffered helper was called, or the stream was ended).</summary>
    public bool IsCompleted
    {
        get
        {
            ThrowIfDone();
            return field;
        }
        private set;
    }

    /// <summary>The response is to a HEAD request: fields as for GET, no body bytes (RFC 9110 §9.3.2).</summary>
    internal bool IsHead { get; set; }

    /// <summary>Ask the connection to close after this response (set for errors and <c>Connection: close</c>).</summary>
    internal bool CloseConnection { get; set; }

    private bool IsChunked { get; set; }

    /// <summary>A body of announced length ended short: the connection must be aborted, not reused.</summary>
    internal bool IsTruncated { get; private set; }

    /// <summary>The body bytes written so far (without chunk framing; 0 for a HEAD request), for access logs.</summary>
    public long BodyBytes { get; private set; }

    /// <summary>Sends <paramref name="text"/> as UTF-8 (default type <c>text/plain; charset=utf-8</c>).</summary>
    public void Text(string text, string contentType = PlainText)
    {
        ArgumentNullException.ThrowIfNull(text);
        ThrowIfStarted();
        ContentType = contentType;
        if (_compression is not null && TextCompressed(text))
        {
            return;
        }
        // ASCII text (most of it) is its own byte count and is narrowed, not transcoded.
        bool ascii = Ascii.IsValid(text);
        int length = ascii ? text.Length : Encoding.UTF8.GetByteCount(text);
        WriteHead(length);
        if (!IsHead)
        {
            BodyBytes = length;
            if (ascii)
            {
                _output.WriteAscii(text);
            }
            else
            {
                _output.WriteUtf8(text);
            }
        }
        IsCompleted = true;
    }

    /// <summary>Sends <paramref name="body"/> as the whole body.</summary>
    public void Bytes(ReadOnlySpan<byte> body, string contentType = OctetStream)
    {
        ThrowIfStarted();
        ContentType = contentType;
        if (_compression is not null && TryWriteCompressed(body))
        {
            return;
        }
        WriteHead(body.Length);
        if (!IsHead)
        {
            BodyBytes = body.Length;
            _output.Write(body);
        }
        IsCompleted = true;
    }

    /// <summary>
    /// Sends <paramref name="value"/> as JSON (<c>application/json</c>), serialized with a source-generated
    /// <paramref name="typeInfo"/> (works under Native AOT). The writer and its buffer are reused per connection.
    /// </summary>
    public void Json<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        ThrowIfStarted();
        ArrayBufferWriter<byte> buffer = _jsonBuffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        Utf8JsonWriter writer = _jsonWriter ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, value, typeInfo);
        writer.Flush();
        Bytes(buffer.WrittenSpan, JsonType);
        if (buffer.Capacity > 64 * 1024)
        {
            _jsonBuffer = null; // do not keep a large one for the connection's lifetime
            _jsonWriter = null;
        }
    }

    /// <summary>Sends a redirect to <paramref name="location"/>: 302 Found, or 308 Permanent Redirect.</summary>
    public void Redirect(string location, bool permanent = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(location);
        ThrowIfStarted();
        StatusCode = permanent ? 308 : 302;
        Headers.Set("Location", location);
        WriteHead(0);
        IsCompleted = true;
    }

    /// <summary>
    /// Streams part of the body: the first call sends the head with <c>Transfer-Encoding: chunked</c>,
    /// each call one chunk. The task completes at once unless the client is slow to read, in which case it
    /// waits until the connection's send buffer drains (flow control).
    /// </summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data)
    {
        if (IsCompleted)
        {
            throw new InvalidOperationException("The response is complete; nothing more can be written.");
        }
        if (!HasStarted)
        {
            IsChunked = true;
            if (_compression is not null)
            {
                BeginCompressedStream();
            }
            WriteHead(-1);
        }
        if (_streamCoding != ContentCoding.Identity && !data.IsEmpty)
        {
            if (_compressedAnnounced)
            {
                if (data.Length > _declaredRemaining)
                {
                    throw new InvalidOperationException($"Writing {data.Length} bytes would exceed the announced length ({_declaredRemaining} bytes left).");
                }
                _declaredRemaining -= data.Length;
            }
            data = CompressPiece(data.Span, final: false); // flushed: what the handler writes reaches the client
            if (data.IsEmpty)
            {
                return _sink.FlushAsync();
            }
            WriteChunk(data.Span);
            return _sink.FlushAsync();
        }
        if (!data.IsEmpty && !IsHead && !IsChunked)
        {
            // A body of announced length (BeginBody): the bytes go as they are.
            if (data.Length > _declaredRemaining)
            {
                throw new InvalidOperationException($"Writing {data.Length} bytes would exceed the announced Content-Length ({_declaredRemaining} bytes left).");
            }
            _declaredRemaining -= data.Length;
            BodyBytes += data.Length;
            _output.Write(data.Span);
        }
        else if (!data.IsEmpty && !IsHead)
        {
            WriteChunk(data.Span);
        }
        return _sink.FlushAsync();
    }

    private void WriteChunk(ReadOnlySpan<byte> data)
    {
        Span<byte> size = stackalloc byte[16];
        data.Length.TryFormat(size, out int n, "x");
        _output.Write(size[..n]);
        _output.Write(s_crlf);
        BodyBytes += data.Length;
        _output.Write(data);
        _output.Write(s_crlf);
    }

    /// <summary>
    /// Starts a body of known length (e.g. a file) to be sent with <see cref="WriteAsync"/> in pieces, framed
    /// with Content-Length rather than chunked. Writing more than <paramref name="contentLength"/> throws.
    /// </summary>
    public void BeginBody(long contentLength, string? contentType = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(contentLength);
        ThrowIfStarted();
        if (contentType is not null)
        {
            ContentType = contentType;
        }
        if (_compression is not null && BeginCompressedStream())
        {
            // Compressed, the length is unknown until the end: chunked; the announced length still bounds the writes.
            IsChunked = true;
            WriteHead(-1);
            _declaredRemaining = contentLength;
            _compressedAnnounced = true;
            return;
        }
        WriteHead(contentLength);
        _declaredRemaining = IsHead ? 0 : contentLength;
    }

    private long _declaredRemaining;
    private bool _compressedAnnounced; // BeginBody's length bounds a compressed (chunked) body

    /// <summary>Fires when the client has gone (see <see cref="HttpContext.RequestAborted"/>).</summary>
    internal CancellationToken RequestAborted => _sink.RequestAborted;

    /// <summary>Ends a streamed body (sends the last chunk). Called for you when the handler returns.</summary>
    public void CompleteStream()
    {
        if (IsCompleted)
        {
            return;
        }
        if (!HasStarted)
        {
            WriteHead(0);
        }
        else if (IsChunked && !IsHead)
        {
            if (_streamCoding != ContentCoding.Identity)
            {
                ReadOnlyMemory<byte> rest = CompressPiece([], final: true); // the encoder's last bytes (gzip's trailer)
                if (!rest.IsEmpty)
                {
                    WriteChunk(rest.Span);
                }
            }
            if (_compressedAnnounced && _declaredRemaining > 0)
            {
                // Fewer bytes than BeginBody announced (a file that shrank): no last chunk, so the client sees a cut body.
                CloseConnection = true;
                IsTruncated = true;
                IsCompleted = true;
                return;
            }
            _output.Write(s_lastChunk);
        }
        else if (_declaredRemaining > 0)
        {
            // Fewer bytes than announced: the client would wait for the rest forever. End the connection.
            CloseConnection = true;
            IsTruncated = true;
        }
        IsCompleted = true;
    }

    /// <summary>Resets for the next request on the connection.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Reset()
    {
        HasStarted = false;
        _statusCode = 200;
        _headers.Clear();
        ContentType = null;
        IsCompleted = false;
        IsHead = false;
        IsChunked = false;
        CloseConnection = false;
        IsTruncated = false;
        BodyBytes = 0;
        _declaredRemaining = 0;
        IsEventStream = false;
        _compressedAnnounced = false;
        if (_compression is not null || _streamCoding != ContentCoding.Identity)
        {
            ResetCompression();
        }
    }

    /// <summary>Writes the status line and fields; <paramref name="contentLength"/> -1 means chunked.</summary>
    private void WriteHead(long contentLength)
    {
        HasStarted = true;
        ResponseBuffer output = _output;
        int status = _statusCode;
        int common = CommonContentType(ContentType);
        if (status == 200 && common >= 0)
        {
            output.Write(DateHeader.OkWithContentType(common)); // status line to Content-Type in one copy
        }
        else
        {
            if (status == 200)
            {
                output.Write(DateHeader.OkStatusAndCommonFields);
            }
            else
            {
                output.Write(StatusLines.For(status));
                output.Write(DateHeader.CommonFields);
            }
            if (common >= 0)
            {
                output.Write(s_contentTypeLines[common]);
            }
            else if (ContentType is not null)
            {
                output.Write(s_contentType);
                output.WriteAscii(ContentType);
                output.Write(s_crlf);
            }
        }
        // No body framing for 1xx, 204 and 304 (RFC 9110 §8.6, RFC 9112 §6.1).
        bool hasBody = status is not (204 or 304) && status >= 200;
        if (hasBody)
        {
            if (contentLength >= 0 && Headers.Count == 0 && !CloseConnection)
            {
                output.WriteContentLengthAndEndOfHead(contentLength); // the common end of a head, in one step
                return;
            }
            if (contentLength >= 0)
            {
                output.Write(s_contentLength);
                output.WriteNumber(contentLength);
                output.Write(s_crlf);
            }
            else
            {
                output.Write(s_chunked);
            }
        }
        else
        {
            IsChunked = false;
        }
        Headers.WriteTo(output);
        if (CloseConnection)
        {
            output.Write(s_connectionClose);
        }
        output.Write(s_crlf);
    }

    // The types of Eddy's own helpers (listed in DateHeader.CommonContentTypes, which caches their 200 heads), matched
    // by reference (literals are interned): the most common responses copy cached bytes instead of narrowing the string.
    internal const string PlainText = "text/plain; charset=utf-8";
    internal const string JsonType = "application/json";
    internal const string OctetStream = "application/octet-stream";
    private static readonly byte[][] s_contentTypeLines = [.. DateHeader.CommonContentTypes.Select(type => Encoding.ASCII.GetBytes("Content-Type: " + type + "\r\n"))];

    /// <summary>The index of <paramref name="contentType"/> in <see cref="DateHeader.CommonContentTypes"/>, or -1.</summary>
    private static int CommonContentType(string? contentType)
    {
        string[] common = DateHeader.CommonContentTypes;
        for (int i = 0; i < common.Length; i++)
        {
            if (ReferenceEquals(contentType, common[i]))
            {
                return i;
            }
        }
        return -1;
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
            RequestLifetime.ThrowCompleted(nameof(HttpResponse));
        }
    }

    private void ThrowIfStarted()
    {
        if (HasStarted)
        {
            throw new InvalidOperationException("The response has started: its status and fields were sent already.");
        }
    }
}

/// <summary>What a response needs from its connection to stream: send what is buffered, wait while the client is slow.</summary>
internal interface IResponseSink
{
    ValueTask FlushAsync();

    /// <summary>True when <see cref="SendFileAsync"/> can hand file regions to the transport (sendfile(2)).</summary>
    bool CanSendFile { get; }

    /// <summary>Sends what is buffered, then the file region; waits as <see cref="FlushAsync"/> does.</summary>
    ValueTask SendFileAsync(SafeFileHandle file, long offset, int count);

    /// <summary>The connection's <see cref="HttpContext.RequestAborted"/>.</summary>
    CancellationToken RequestAborted { get; }

    /// <summary>The connection's loop (event streams time their heartbeats on its clock).</summary>
    Eddy.Loop.EventLoop Loop { get; }
}
