using System.Text;
using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.Fuzz;

internal enum PipelineMode
{
    Head,       // one request head
    Chunked,    // one chunked body
    Stream,     // requests one after another: head, body by its framing, next head while kept alive
}

/// <summary>
/// Reads input[start..end] the way a connection does: the bytes arrive in pieces (per the schedule),
/// unconsumed bytes are presented again with the next piece, and each part is handed to the parser or
/// the body decoder its framing calls for. Every call is checked against its contract, and the result
/// is a transcript of what was parsed and how it ended, for comparing one feeding with another.
/// </summary>
internal sealed class RequestPipeline
{
    private readonly byte[] _input;
    private readonly int _end;
    private readonly PieceSchedule _schedule;
    private readonly Transcript _transcript;
    private readonly HttpParser _parser;
    private readonly HttpBodyDecoder _body;
    private readonly long? _maxBodySize;
    private int _start;         // the first byte not consumed
    private int _available;     // the bytes arrived so far end here
    private int _pieces;
    private long _bodyLength;

    private RequestPipeline(byte[] input, int start, int end, PieceSchedule schedule, HttpParserLimits limits, long? maxBodySize)
    {
        _input = input;
        _start = start;
        _available = start;
        _end = end;
        _schedule = schedule;
        _transcript = new Transcript(input);
        _parser = new HttpParser(limits);
        _body = new HttpBodyDecoder(limits);
        _maxBodySize = maxBodySize;
    }

    public static string Run(byte[] input, int start, int end, PieceSchedule schedule, HttpParserLimits limits, long? maxBodySize, PipelineMode mode)
    {
        var pipeline = new RequestPipeline(input, start, end, schedule, limits, maxBodySize);
        pipeline.Run(mode);
        return pipeline._transcript.ToString();
    }

    private void Run(PipelineMode mode)
    {
        try
        {
            Arrive();
            if (mode == PipelineMode.Chunked)
            {
                ReadBody(HttpBodyKind.Chunked, -1, keepAlive: false);
                return;
            }
            do
            {
                if (!ReadHead(out HttpRequestHead head))
                {
                    return;
                }
                if (mode == PipelineMode.Head)
                {
                    return;
                }
                bool bodyComplete = ReadBody(head.BodyKind, head.ContentLength, head.KeepAlive);
                if (!bodyComplete || !head.KeepAlive)
                {
                    return;
                }
            }
            while (_start < _end);
        }
        catch (HttpRejectException e)
        {
            CheckRejection(e);
            // The handler may have heard the lines before the bad one, or not, depending on whether the
            // head was complete when it was rejected (IHttpRequestHandler): only the rejection counts.
            _transcript.DropUnfinishedHead();
            _transcript.Line($"reject {e.Reason}");
        }
    }

    /// <summary>The next piece arrives; false when the input is all there already.</summary>
    private bool Arrive()
    {
        if (_available == _end)
        {
            return false;
        }
        _available += (int)Math.Min(_schedule.Size(_pieces++), (long)(_end - _available));
        return true;
    }

    private ReadOnlySpan<byte> Unconsumed => _input.AsSpan(_start, _available - _start);

    private bool ReadHead(out HttpRequestHead head)
    {
        _transcript.StartHead();
        while (true)
        {
            ReadOnlySpan<byte> window = Unconsumed;
            _transcript.Window(_start, window.Length);
            int calls = _transcript.Calls;
            var handler = new RecordingHandler(_transcript);
            bool complete = _parser.TryParseHead(window, ref handler, out int consumed, out head);
            CheckConsumed(consumed, window.Length);
            if (complete)
            {
                if (consumed < 4 || !window[..consumed].EndsWith("\r\n\r\n"u8))
                {
                    throw new FuzzCheckException($"a head of {consumed} bytes does not end with CRLFCRLF");
                }
                _transcript.CheckHeadComplete(in head);
                _start += consumed;
                return true;
            }
            if (_transcript.Calls != calls)
            {
                throw new FuzzCheckException("the handler was called for an incomplete head");
            }
            // Only the empty lines before the request-line are consumed from an incomplete head.
            for (int i = 0; i < consumed; i += 2)
            {
                if (window[i] != (byte)'\r' || window[i + 1] != (byte)'\n')
                {
                    throw new FuzzCheckException($"{consumed} bytes of an incomplete head were consumed, not just empty lines");
                }
            }
            _start += consumed;
            if (!Arrive())
            {
                _transcript.Line($"incomplete head at {_start}");
                return false;
            }
        }
    }

    /// <summary>The body its head frames, through the one decoder the server uses (HttpBodyDecoder), under the body limit.</summary>
    private bool ReadBody(HttpBodyKind kind, long length, bool keepAlive)
    {
        _body.Begin(kind, length, _maxBodySize);
        _bodyLength = 0;
        while (true)
        {
            ReadOnlySpan<byte> window = Unconsumed;
            _transcript.Window(_start, window.Length);
            var handler = new RecordingHandler(_transcript);
            BodyDecodeStatus status = _body.Decode(window, int.MaxValue, ref handler, out int consumed, out ReadOnlySpan<byte> data);
            CheckConsumed(consumed, window.Length);
            switch (status)
            {
                case BodyDecodeStatus.Data:
                    // The data is the last bytes of those consumed (all of them for Content-Length).
                    if (data.IsEmpty || !window[..consumed].EndsWith(data) || !data.Overlaps(window[(consumed - data.Length)..consumed]) ||
                        (kind == HttpBodyKind.ContentLength && data.Length != consumed))
                    {
                        throw new FuzzCheckException($"{kind} data of {data.Length} bytes is not the last of the {consumed} consumed");
                    }
                    TakeData(window, consumed, data);
                    break;
                case BodyDecodeStatus.NeedMoreData:
                    if (kind == HttpBodyKind.ContentLength && (!window.IsEmpty || consumed != 0))
                    {
                        throw new FuzzCheckException($"Content-Length decoder asked for more with {window.Length} bytes unread");
                    }
                    _start += consumed;
                    if (!Arrive())
                    {
                        _transcript.EndBody($"incomplete body at {_start}");
                        return false;
                    }
                    break;
                default:
                    _start += consumed;
                    if (!_body.IsComplete || _body.BytesDecoded != _bodyLength || (kind == HttpBodyKind.ContentLength && (consumed != 0 || _bodyLength != length)))
                    {
                        throw new FuzzCheckException($"{kind} body done with {_bodyLength} bytes of data ({_body.BytesDecoded} counted, {length} announced)");
                    }
                    if (kind != HttpBodyKind.None)
                    {
                        _transcript.EndBody(keepAlive ? "end" : $"end, {_end - _start} bytes after");
                    }
                    return true;
            }
        }
    }

    private void TakeData(ReadOnlySpan<byte> window, int consumed, ReadOnlySpan<byte> data)
    {
        if (consumed == 0 || data.IsEmpty)
        {
            throw new FuzzCheckException("Data without progress");
        }
        _transcript.Data(data);
        _bodyLength += data.Length;
        _start += consumed;
    }

    private static void CheckConsumed(int consumed, int length)
    {
        if ((uint)consumed > (uint)length)
        {
            throw new FuzzCheckException($"consumed {consumed} of {length} bytes");
        }
    }

    /// <summary>The exception's own contract: a status for its reason, and a short single-line message.</summary>
    private static void CheckRejection(HttpRejectException e)
    {
        if (e.StatusCode != HttpRejectException.GetStatusCode(e.Reason) || e.StatusCode is < 400 or > 505)
        {
            throw new FuzzCheckException($"rejection {e.Reason} with status {e.StatusCode}");
        }
        if (e.Message.Length > 200 || e.Message.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new FuzzCheckException($"rejection message too long or not one line: {e.Message}");
        }
    }
}

/// <summary>What was parsed, as text; spans are checked to lie within the bytes presented.</summary>
internal sealed class Transcript(byte[] input)
{
    private readonly StringBuilder _text = new();
    private readonly List<byte> _body = [];
    private int _headStart = -1;    // where the head being parsed starts in _text; -1 when none is
    private int _windowStart;
    private int _windowLength;
    private int _headers;

    /// <summary>Handler calls so far.</summary>
    public int Calls { get; private set; }

    public void Window(int start, int length)
    {
        _windowStart = start;
        _windowLength = length;
    }

    public void Line(string text) => _text.Append(text).Append('\n');

    public void StartHead() => _headStart = _text.Length;

    public void DropUnfinishedHead()
    {
        if (_headStart >= 0)
        {
            _text.Length = _headStart;
            _headStart = -1;
        }
    }

    public void RequestLine(HttpRequestLine line)
    {
        Calls++;
        _headers = 0;
        Line($"request-line {line.Verb} {Bytes(line.Method)} {Bytes(line.Target)} {line.TargetForm} {line.Version}");
    }

    public void Header(string kind, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Calls++;
        _headers++;
        if (name.IsEmpty)
        {
            throw new FuzzCheckException($"{kind} with an empty name");
        }
        Line($"{kind} {Bytes(name)}: {Bytes(value)}");
    }

    public void HeadersComplete(in HttpRequestHead head)
    {
        Calls++;
        _headStart = -1;
        Line($"head {head.Verb} {head.Version} {head.TargetForm} {head.BodyKind} {head.ContentLength} keep-alive={head.KeepAlive} " +
            $"expect-continue={head.ExpectContinue} upgrade={head.HasUpgrade}/{head.ConnectionUpgrade} fields={head.HeaderCount}");
    }

    /// <summary>After a head is parsed: the handler heard all of it, and the result agrees with what it heard.</summary>
    public void CheckHeadComplete(in HttpRequestHead head)
    {
        if (head.HeaderCount != _headers)
        {
            throw new FuzzCheckException($"head.HeaderCount {head.HeaderCount}, {_headers} fields delivered");
        }
        bool lengthAgrees = head.BodyKind switch
        {
            HttpBodyKind.None => head.ContentLength == 0,
            HttpBodyKind.ContentLength => head.ContentLength >= 0,
            _ => head.ContentLength == -1,
        };
        if (!lengthAgrees)
        {
            throw new FuzzCheckException($"{head.BodyKind} body with ContentLength {head.ContentLength}");
        }
    }

    public void Data(ReadOnlySpan<byte> data)
    {
        CheckWithinWindow(data);
        _body.AddRange(data);
    }

    /// <summary>The body as one line however it was sliced, then how it ended.</summary>
    public void EndBody(string how)
    {
        Line($"body {_body.Count} {Escape([.. _body])}");
        Line(how);
        _body.Clear();
    }

    public override string ToString() => _text.ToString();

    /// <summary>The span lies within the bytes presented to the call; then its bytes as text.</summary>
    private string Bytes(ReadOnlySpan<byte> span)
    {
        CheckWithinWindow(span);
        return Escape(span);
    }

    /// <summary>Printable ASCII as is, any other byte (and '\\') as \xHH.</summary>
    private static string Escape(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        foreach (byte b in bytes)
        {
            if (b is >= 0x20 and < 0x7F && b != (byte)'\\')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append($"\\x{b:X2}");
            }
        }
        return text.ToString();
    }

    private void CheckWithinWindow(ReadOnlySpan<byte> span)
    {
        if (span.IsEmpty)
        {
            return;
        }
        ReadOnlySpan<byte> window = input.AsSpan(_windowStart, _windowLength);
        if (!window.Overlaps(span, out int offset) || offset < 0 || offset + span.Length > window.Length)
        {
            throw new FuzzCheckException($"a span of {span.Length} bytes lies outside the {window.Length} bytes presented");
        }
    }
}

/// <summary>The handler the parser and the chunked decoder call: it writes to the transcript.</summary>
internal readonly struct RecordingHandler(Transcript transcript) : IHttpRequestHandler, IHttpTrailerHandler
{
    public void OnRequestLine(HttpRequestLine requestLine) => transcript.RequestLine(requestLine);

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => transcript.Header("header", name, value);

    public void OnHeadersComplete(in HttpRequestHead head) => transcript.HeadersComplete(in head);

    public void OnTrailer(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => transcript.Header("trailer", name, value);
}
