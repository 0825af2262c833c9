using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.UnitTests.Http.Parsing;

/// <summary>
/// Incrementality: nothing of an incomplete head is consumed, and however the bytes are split the
/// requests come out the same, fed the way the server will feed them.
/// </summary>
public sealed partial class HttpParserTests
{
    private const string GetRequest = "GET /search?q=eddy HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nX-Empty:\r\n\r\n";
    private const string PostRequest = "POST /form HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world";
    private const string ChunkedRequest =
        "PUT /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "5;ext=1\r\nhello\r\n1 ;a=\"b\"\r\n,\r\nA\r\n0123456789\r\n0\r\nSum: 42\r\nX-Other:  v \r\n\r\n";

    private static readonly Dictionary<string, string> s_streams = new()
    {
        ["get"] = GetRequest,
        ["post"] = PostRequest,
        ["chunked"] = ChunkedRequest,
        ["chunked-no-trailers"] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        ["http10"] = "GET /old HTTP/1.0\r\nUser-Agent: x\r\n\r\n",
        ["absolute"] = "GET http://example.com/a?b HTTP/1.1\r\nHost: example.com\r\n\r\n",
        ["options"] = "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        ["connect"] = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        ["empty-lines-first"] = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        ["empty-body"] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
        ["pipelined"] = GetRequest + PostRequest + "\r\n" + ChunkedRequest + GetRequest + PostRequest,
    };

    public static TheoryData<string> StreamNames => new(s_streams.Keys);

    public static TheoryData<string> HeadNames => new(s_streams.Keys.Where(name => !s_streams[name].StartsWith('\r')));

    private static List<string> ParseWhole(string stream)
    {
        List<string> requests = Parse.Stream(stream).Select(r => r.Describe()).ToList();
        Assert.NotEmpty(requests);
        return requests;
    }

    [Theory]
    [MemberData(nameof(HeadNames))]
    public void EveryPrefixOfAHeadNeedsMoreDataAndConsumesNothing(string name)
    {
        byte[] bytes = ParsedRequest.Bytes(s_streams[name]);
        int headLength = s_streams[name].IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        var growing = new HttpParser();
        var growingRecorder = new Recorder();
        var growingHandler = new RecordingHandler(growingRecorder);

        for (int length = 0; length < headLength; length++)
        {
            var recorder = new Recorder();
            var handler = new RecordingHandler(recorder);
            Assert.False(new HttpParser().TryParseHead(bytes.AsSpan(0, length), ref handler, out int consumed, out _));
            Assert.Equal(0, consumed);
            Assert.Empty(recorder.Calls);

            // The same parser, given the same bytes plus more each time, as a server gives it.
            Assert.False(growing.TryParseHead(bytes.AsSpan(0, length), ref growingHandler, out consumed, out _));
            Assert.Equal(0, consumed);
            Assert.Empty(growingRecorder.Calls);
        }

        Assert.True(growing.TryParseHead(bytes.AsSpan(0, headLength), ref growingHandler, out int headConsumed, out _));
        Assert.Equal(headLength, headConsumed);
    }

    [Theory]
    [MemberData(nameof(StreamNames))]
    public void EveryTwoSegmentSplitParsesToTheSameRequests(string name)
    {
        string stream = s_streams[name];
        List<string> expected = ParseWhole(stream);
        byte[] bytes = ParsedRequest.Bytes(stream);

        for (int split = 0; split <= bytes.Length; split++)
        {
            var reader = new RequestStreamReader();
            reader.DataReceived(bytes.AsSpan(0, split));
            reader.DataReceived(bytes.AsSpan(split));

            Assert.Equal(expected, reader.Completed.Select(r => r.Describe()));
            Assert.True(reader.IsIdle, $"split at {split}: bytes left over");
        }
    }

    [Theory]
    [MemberData(nameof(StreamNames))]
    public void OneByteAtATimeParsesToTheSameRequests(string name)
    {
        string stream = s_streams[name];
        List<string> expected = ParseWhole(stream);
        byte[] bytes = ParsedRequest.Bytes(stream);
        var reader = new RequestStreamReader();

        for (int i = 0; i < bytes.Length; i++)
        {
            reader.DataReceived(bytes.AsSpan(i, 1));
        }

        Assert.Equal(expected, reader.Completed.Select(r => r.Describe()));
        Assert.True(reader.IsIdle);
        // Only an incomplete head (or trailer line) is ever kept: body bytes go straight through.
        int longestHead = stream.Split("\r\n\r\n").Max(part => part.Length) + 4;
        Assert.True(reader.MaxBuffered < longestHead, $"kept {reader.MaxBuffered} bytes");
    }

    [Fact]
    public void PipelinedRequestsParseOneAfterAnotherWithExactConsumedCounts()
    {
        byte[] bytes = ParsedRequest.Bytes(GetRequest + PostRequest + ChunkedRequest + GetRequest);
        var parser = new HttpParser();
        var chunked = new ChunkedDecoder();
        var recorder = new Recorder();
        var handler = new RecordingHandler(recorder);
        ReadOnlySpan<byte> input = bytes;

        Assert.True(parser.TryParseHead(input, ref handler, out int consumed, out HttpRequestHead head));
        Assert.Equal(GetRequest.Length, consumed);
        Assert.Equal(HttpBodyKind.None, head.BodyKind);
        input = input[consumed..];

        Assert.True(parser.TryParseHead(input, ref handler, out consumed, out head));
        Assert.Equal(PostRequest.Length - 11, consumed);
        input = input[consumed..];
        var body = new ContentLengthDecoder(head.ContentLength);
        Assert.Equal(BodyDecodeStatus.Data, body.Decode(input, out consumed, out ReadOnlySpan<byte> data));
        Assert.Equal("hello world", ParsedRequest.Latin1(data));
        Assert.Equal(11, consumed);
        input = input[consumed..];
        Assert.Equal(BodyDecodeStatus.Done, body.Decode(input, out consumed, out _));
        Assert.Equal(0, consumed);

        Assert.True(parser.TryParseHead(input, ref handler, out consumed, out head));
        Assert.Equal(HttpBodyKind.Chunked, head.BodyKind);
        int chunkedHead = ChunkedRequest.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        Assert.Equal(chunkedHead, consumed);
        input = input[consumed..];
        int bodyBytes = 0;
        var text = new List<byte>();
        while (true)
        {
            BodyDecodeStatus status = chunked.Decode(input, ref handler, out consumed, out data);
            bodyBytes += consumed;
            input = input[consumed..];
            if (status == BodyDecodeStatus.Done)
            {
                break;
            }
            Assert.Equal(BodyDecodeStatus.Data, status);
            text.AddRange(data.ToArray());
        }
        Assert.Equal(ChunkedRequest.Length - chunkedHead, bodyBytes);
        Assert.Equal("hello,0123456789", ParsedRequest.Latin1(text.ToArray()));

        Assert.True(parser.TryParseHead(input, ref handler, out consumed, out _));
        Assert.Equal(GetRequest.Length, consumed);
        Assert.Equal(consumed, input.Length);
        Assert.Equal(4, recorder.Requests.Count);
    }

    [Fact]
    public void ResetForgetsAnIncompleteHead()
    {
        var parser = new HttpParser();
        var handler = new RecordingHandler(new Recorder());
        Assert.False(parser.TryParseHead("GET / HTTP/1.1\r\nHost: a\r\nX-Long: 0123456789\r\n"u8, ref handler, out _, out _));

        parser.Reset();

        Assert.True(parser.TryParseHead("GET / HTTP/1.1\r\nHost: b\r\n\r\n"u8, ref handler, out int consumed, out _));
        Assert.Equal(27, consumed);
    }
}
