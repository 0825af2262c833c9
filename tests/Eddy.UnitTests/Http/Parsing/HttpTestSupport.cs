using System.Text;
using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.UnitTests.Http.Parsing;

/// <summary>A request as the parser and the body decoders saw it; strings hold the bytes as Latin-1, one char per byte.</summary>
internal sealed record ParsedRequest
{
    public HttpVerb Verb { get; init; }
    public string Method { get; init; } = "";
    public string Target { get; init; } = "";
    public string Path { get; init; } = "";
    public string Query { get; init; } = "";
    public HttpTargetForm TargetForm { get; init; }
    public HttpProtocolVersion Version { get; init; }
    public List<(string Name, string Value)> Headers { get; } = [];
    public HttpRequestHead Head { get; set; }
    public bool HeadComplete { get; set; }
    public List<byte> Body { get; } = [];
    public List<(string Name, string Value)> Trailers { get; } = [];

    public string BodyText => Latin1(Body.ToArray());

    public static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    public static byte[] Bytes(string latin1) => Encoding.Latin1.GetBytes(latin1);

    /// <summary>A readable, comparable form: records compare lists by reference.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append($"{Verb} {Method} {Target} {TargetForm} {Version}\n");
        foreach ((string name, string value) in Headers)
        {
            text.Append($"{name}: [{value}]\n");
        }
        text.Append($"head: {Head.BodyKind} {Head.ContentLength} keepAlive={Head.KeepAlive} expect={Head.ExpectContinue} " +
            $"upgrade={Head.HasUpgrade}/{Head.ConnectionUpgrade} count={Head.HeaderCount} complete={HeadComplete}\n");
        text.Append($"body: [{BodyText}]\n");
        foreach ((string name, string value) in Trailers)
        {
            text.Append($"trailer {name}: [{value}]\n");
        }
        return text.ToString();
    }
}

/// <summary>Collects what a <see cref="RecordingHandler"/> is told: a class, so the struct handler can be copied freely.</summary>
internal sealed class Recorder
{
    public List<ParsedRequest> Requests { get; } = [];
    public List<string> Calls { get; } = [];

    public ParsedRequest Current => Requests[^1];
}

/// <summary>A struct handler, as the server's will be, that records into a <see cref="Recorder"/>.</summary>
internal readonly struct RecordingHandler(Recorder recorder) : IHttpRequestHandler, IHttpTrailerHandler
{
    public Recorder Recorder { get; } = recorder;

    public void OnRequestLine(HttpRequestLine requestLine)
    {
        Recorder.Calls.Add("line");
        Recorder.Requests.Add(new ParsedRequest
        {
            Verb = requestLine.Verb,
            Method = ParsedRequest.Latin1(requestLine.Method),
            Target = ParsedRequest.Latin1(requestLine.Target),
            Path = ParsedRequest.Latin1(requestLine.Path),
            Query = ParsedRequest.Latin1(requestLine.Query),
            TargetForm = requestLine.TargetForm,
            Version = requestLine.Version,
        });
    }

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Recorder.Calls.Add("header");
        Recorder.Current.Headers.Add((ParsedRequest.Latin1(name), ParsedRequest.Latin1(value)));
    }

    public void OnHeadersComplete(in HttpRequestHead head)
    {
        Recorder.Calls.Add("complete");
        Recorder.Current.Head = head;
        Recorder.Current.HeadComplete = true;
    }

    public void OnTrailer(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Recorder.Calls.Add("trailer");
        Recorder.Current.Trailers.Add((ParsedRequest.Latin1(name), ParsedRequest.Latin1(value)));
    }
}

/// <summary>
/// Reads requests from a byte stream the way the server will: parse straight from each arriving span,
/// and copy only the unconsumed tail into a per-connection buffer, to which the next span is appended.
/// Heads go through <see cref="HttpParser"/>, bodies through <see cref="ContentLengthDecoder"/> or
/// <see cref="ChunkedDecoder"/>.
/// </summary>
internal sealed class RequestStreamReader
{
    private enum Mode
    {
        Head,
        ContentLength,
        Chunked,
    }

    private readonly HttpParser _parser;
    private readonly ChunkedDecoder _chunked;
    private readonly RecordingHandler _handler;
    private ContentLengthDecoder _contentLength;
    private Mode _mode;
    private byte[] _buffer = new byte[64];
    private int _buffered;

    public RequestStreamReader(HttpParserLimits? limits = null)
    {
        limits ??= HttpParserLimits.Default;
        _parser = new HttpParser(limits);
        _chunked = new ChunkedDecoder(limits);
        _handler = new RecordingHandler(Recorder);
    }

    public Recorder Recorder { get; } = new();

    /// <summary>Requests whose body has been read to the end.</summary>
    public int CompletedCount { get; private set; }

    /// <summary>Nothing buffered and no request in progress: the stream ended on a request boundary.</summary>
    public bool IsIdle => _mode == Mode.Head && _buffered == 0;

    /// <summary>The biggest tail ever kept, to check the buffer stays bounded.</summary>
    public int MaxBuffered { get; private set; }

    public List<ParsedRequest> Completed => Recorder.Requests.Take(CompletedCount).ToList();

    /// <summary>Protocol.DataReceived: <paramref name="data"/> is valid only during the call.</summary>
    public void DataReceived(ReadOnlySpan<byte> data)
    {
        if (_buffered == 0)
        {
            int used = Process(data);
            Keep(data[used..]);
        }
        else
        {
            EnsureCapacity(_buffered + data.Length);
            data.CopyTo(_buffer.AsSpan(_buffered));
            _buffered += data.Length;
            int used = Process(_buffer.AsSpan(0, _buffered));
            // Move the tail down (the regions may overlap: Span.CopyTo handles that).
            _buffer.AsSpan(used, _buffered - used).CopyTo(_buffer);
            _buffered -= used;
        }
        MaxBuffered = Math.Max(MaxBuffered, _buffered);
    }

    private void Keep(ReadOnlySpan<byte> tail)
    {
        EnsureCapacity(tail.Length);
        tail.CopyTo(_buffer);
        _buffered = tail.Length;
    }

    private void EnsureCapacity(int length)
    {
        if (_buffer.Length < length)
        {
            Array.Resize(ref _buffer, Math.Max(length, _buffer.Length * 2));
        }
    }

    /// <summary>Parses as much as <paramref name="input"/> holds; returns how much was consumed.</summary>
    private int Process(ReadOnlySpan<byte> input)
    {
        int offset = 0;
        RecordingHandler handler = _handler;
        // Every pass either consumes bytes, changes mode, or returns: bounded by the input's length.
        for (int guard = 0; guard < 4 * input.Length + 16; guard++)
        {
            int consumed;
            ReadOnlySpan<byte> data;
            switch (_mode)
            {
                case Mode.Head:
                    if (!_parser.TryParseHead(input[offset..], ref handler, out consumed, out HttpRequestHead head))
                    {
                        return offset + consumed;
                    }
                    offset += consumed;
                    switch (head.BodyKind)
                    {
                        case HttpBodyKind.ContentLength:
                            _contentLength = new ContentLengthDecoder(head.ContentLength);
                            _mode = Mode.ContentLength;
                            break;
                        case HttpBodyKind.Chunked:
                            _chunked.Reset();
                            _mode = Mode.Chunked;
                            break;
                        default:
                            CompletedCount++;
                            break;
                    }
                    break;

                case Mode.ContentLength:
                    switch (_contentLength.Decode(input[offset..], out consumed, out data))
                    {
                        case BodyDecodeStatus.Data:
                            Assert.True(consumed > 0 && !data.IsEmpty);
                            Recorder.Current.Body.AddRange(data.ToArray());
                            offset += consumed;
                            break;
                        case BodyDecodeStatus.NeedMoreData:
                            return offset + consumed;
                        default:
                            CompletedCount++;
                            _mode = Mode.Head;
                            break;
                    }
                    break;

                case Mode.Chunked:
                    BodyDecodeStatus status = _chunked.Decode(input[offset..], ref handler, out consumed, out data);
                    offset += consumed;
                    switch (status)
                    {
                        case BodyDecodeStatus.Data:
                            Assert.False(data.IsEmpty);
                            Recorder.Current.Body.AddRange(data.ToArray());
                            break;
                        case BodyDecodeStatus.NeedMoreData:
                            return offset;
                        default:
                            CompletedCount++;
                            _mode = Mode.Head;
                            break;
                    }
                    break;
            }
        }
        throw new InvalidOperationException("The parser made no progress: it would loop forever.");
    }
}

/// <summary>Helpers to run the parser on a whole buffer.</summary>
internal static class Parse
{
    /// <summary>Parses one head from <paramref name="request"/>, which must be complete.</summary>
    public static ParsedRequest Head(string request, HttpParserLimits? limits = null) => Head(ParsedRequest.Bytes(request), out _, limits);

    public static ParsedRequest Head(byte[] request, out int consumed, HttpParserLimits? limits = null)
    {
        var parser = new HttpParser(limits ?? HttpParserLimits.Default);
        var recorder = new Recorder();
        var handler = new RecordingHandler(recorder);
        Assert.True(parser.TryParseHead(request, ref handler, out consumed, out HttpRequestHead head), "the head should be complete");
        Assert.Equal(head, recorder.Current.Head);
        return recorder.Current;
    }

    /// <summary>Feeds <paramref name="stream"/> in one piece and returns the completed requests.</summary>
    public static List<ParsedRequest> Stream(string stream, HttpParserLimits? limits = null)
    {
        var reader = new RequestStreamReader(limits);
        reader.DataReceived(ParsedRequest.Bytes(stream));
        return reader.Completed;
    }

    /// <summary>Runs <paramref name="request"/> through the stream reader and returns the rejection.</summary>
    public static HttpRejectException Rejection(string request, HttpParserLimits? limits = null) =>
        Rejection(ParsedRequest.Bytes(request), limits);

    public static HttpRejectException Rejection(byte[] request, HttpParserLimits? limits = null)
    {
        var reader = new RequestStreamReader(limits);
        return Assert.Throws<HttpRejectException>(() => reader.DataReceived(request));
    }
}
