using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.UnitTests.Http.Parsing;

/// <summary>Valid request heads parse to their parts and framing; the struct-handler path allocates nothing.</summary>
public sealed partial class HttpParserTests
{
    [Fact]
    public void AGetWithAQueryParsesToItsMethodTargetVersionAndHeaders()
    {
        ParsedRequest request = Parse.Head("GET /search?q=eddy&page=2 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");

        Assert.Equal(HttpVerb.Get, request.Verb);
        Assert.Equal("GET", request.Method);
        Assert.Equal("/search?q=eddy&page=2", request.Target);
        Assert.Equal("/search", request.Path);
        Assert.Equal("q=eddy&page=2", request.Query);
        Assert.Equal(HttpTargetForm.Origin, request.TargetForm);
        Assert.Equal(HttpProtocolVersion.Http11, request.Version);
        Assert.Equal([("Host", "example.com"), ("Accept", "*/*")], request.Headers);
        Assert.Equal(HttpBodyKind.None, request.Head.BodyKind);
        Assert.Equal(0, request.Head.ContentLength);
        Assert.True(request.Head.KeepAlive);
        Assert.Equal(2, request.Head.HeaderCount);
    }

    [Fact]
    public void TheHandlerHearsTheRequestLineThenEachHeaderThenTheEnd()
    {
        var recorder = new Recorder();
        var handler = new RecordingHandler(recorder);
        byte[] head = ParsedRequest.Bytes("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n");

        Assert.True(new HttpParser().TryParseHead(head, ref handler, out int consumed, out _));

        Assert.Equal(["line", "header", "header", "complete"], recorder.Calls);
        Assert.Equal(head.Length, consumed);
    }

    [Fact]
    public void APostWithContentLengthConsumesOnlyTheHeadAndReportsTheLength()
    {
        const string Head = "POST /submit HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n";
        ParsedRequest request = Parse.Head(ParsedRequest.Bytes(Head + "hello world"), out int consumed);

        Assert.Equal(Head.Length, consumed);
        Assert.Equal(HttpVerb.Post, request.Verb);
        Assert.Equal(HttpBodyKind.ContentLength, request.Head.BodyKind);
        Assert.Equal(11, request.Head.ContentLength);

        ParsedRequest whole = Assert.Single(Parse.Stream(Head + "hello world"));
        Assert.Equal("hello world", whole.BodyText);
    }

    [Fact]
    public void AChunkedBodyWithExtensionsAndTrailersDecodesToItsDataAndTrailers()
    {
        List<ParsedRequest> requests = Parse.Stream(
            "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "5;name=value\r\nhello\r\n" +
            "1 ; a ; b=\"quoted; string\"\r\n,\r\n" +
            "6\r\n world\r\n" +
            "0;last\r\nChecksum: abc\r\nX-Trailer:  two words \r\n\r\n");

        ParsedRequest request = Assert.Single(requests);
        Assert.Equal(HttpBodyKind.Chunked, request.Head.BodyKind);
        Assert.Equal(-1, request.Head.ContentLength);
        Assert.Equal("hello, world", request.BodyText);
        Assert.Equal([("Checksum", "abc"), ("X-Trailer", "two words")], request.Trailers);
        Assert.Equal([("Host", "a"), ("Transfer-Encoding", "chunked")], request.Headers);
    }

    [Fact]
    public void AnHttp10RequestWithoutHostIsAcceptedAndNotKeptAlive()
    {
        ParsedRequest request = Parse.Head("GET /old HTTP/1.0\r\nUser-Agent: lynx\r\n\r\n");

        Assert.Equal(HttpProtocolVersion.Http10, request.Version);
        Assert.False(request.Head.KeepAlive);
    }

    [Fact]
    public void AnAbsoluteFormTargetIsKeptAsReceived()
    {
        ParsedRequest request = Parse.Head("GET http://example.com:8080/a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\n\r\n");

        Assert.Equal(HttpTargetForm.Absolute, request.TargetForm);
        Assert.Equal("http://example.com:8080/a/b?c=d", request.Target);
        Assert.Equal(HttpTargetForm.Absolute, request.Head.TargetForm);
    }

    [Theory]
    [InlineData("https://[::1]")]
    [InlineData("http://127.0.0.1:/")]
    [InlineData("HTTP://Example.COM?x")]
    public void AbsoluteFormsWithIpLiteralsEmptyPortsOrNoPathAreAccepted(string target)
    {
        Assert.Equal(HttpTargetForm.Absolute, Parse.Head($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").TargetForm);
    }

    [Fact]
    public void OptionsWithAnAsteriskIsTheAsteriskForm()
    {
        ParsedRequest request = Parse.Head("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(HttpVerb.Options, request.Verb);
        Assert.Equal(HttpTargetForm.Asterisk, request.TargetForm);
        Assert.Equal("*", request.Target);
    }

    [Theory]
    [InlineData("example.com:443")]
    [InlineData("[2001:db8::1]:8443")]
    [InlineData("10.0.0.1:80")]
    public void ConnectWithAnAuthorityIsTheAuthorityForm(string target)
    {
        ParsedRequest request = Parse.Head($"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");

        Assert.Equal(HttpVerb.Connect, request.Verb);
        Assert.Equal(HttpTargetForm.Authority, request.TargetForm);
        Assert.Equal(target, request.Target);
    }

    [Theory]
    [InlineData("GET", HttpVerb.Get)]
    [InlineData("HEAD", HttpVerb.Head)]
    [InlineData("POST", HttpVerb.Post)]
    [InlineData("PUT", HttpVerb.Put)]
    [InlineData("DELETE", HttpVerb.Delete)]
    [InlineData("OPTIONS", HttpVerb.Options)]
    [InlineData("PATCH", HttpVerb.Patch)]
    [InlineData("TRACE", HttpVerb.Trace)]
    [InlineData("PURGE", HttpVerb.Extension)]
    [InlineData("get", HttpVerb.Extension)]
    [InlineData("M-SEARCH", HttpVerb.Extension)]
    [InlineData("X!#$%&'*+-.^_`|~9", HttpVerb.Extension)]
    public void MethodsAreCaseSensitiveTokensAndUnknownOnesAreExtensions(string method, HttpVerb verb)
    {
        ParsedRequest request = Parse.Head($"{method} / HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(verb, request.Verb);
        Assert.Equal(method, request.Method);
    }

    [Fact]
    public void OneHundredHeadersAreAccepted()
    {
        string headers = string.Concat(Enumerable.Range(0, 99).Select(i => $"X-Header-{i}: value {i}\r\n"));
        ParsedRequest request = Parse.Head($"GET / HTTP/1.1\r\nHost: a\r\n{headers}\r\n");

        Assert.Equal(100, request.Headers.Count);
        Assert.Equal(100, request.Head.HeaderCount);
        Assert.Equal(("X-Header-98", "value 98"), request.Headers[^1]);
    }

    [Fact]
    public void HeaderValuesKeepInnerWhitespaceAndObsTextAndLoseSurroundingWhitespace()
    {
        byte[] head = [.. ParsedRequest.Bytes("GET / HTTP/1.1\r\nHost: a\r\nX-Spaces: \t a  b\tc \t\r\nX-Obs: caf"), 0xC3, 0xA9, 0x80, 0xFF,
            .. ParsedRequest.Bytes("\r\nX-Empty:\r\nX-Blank:   \r\nX-Tight:v\r\n\r\n")];

        ParsedRequest request = Parse.Head(head, out _);

        Assert.Equal(
            [("Host", "a"), ("X-Spaces", "a  b\tc"), ("X-Obs", "caf\u00C3\u00A9\u0080\u00FF"), ("X-Empty", ""), ("X-Blank", ""), ("X-Tight", "v")],
            request.Headers);
    }

    [Fact]
    public void FramingHeaderNamesAreCaseInsensitive()
    {
        ParsedRequest chunked = Assert.Single(Parse.Stream(
            "POST / HTTP/1.1\r\nhOsT: a\r\ntransfer-ENCODING: CHUNKED\r\nCONNECTION: Close\r\nexpect: 100-Continue\r\nupgrade: x\r\n\r\n0\r\n\r\n"));
        Assert.Equal(HttpBodyKind.Chunked, chunked.Head.BodyKind);
        Assert.False(chunked.Head.KeepAlive);
        Assert.True(chunked.Head.ExpectContinue);
        Assert.True(chunked.Head.HasUpgrade);

        ParsedRequest sized = Parse.Head("POST / HTTP/1.1\r\nHOST: a\r\ncontent-length: 3\r\n\r\n");
        Assert.Equal(HttpBodyKind.ContentLength, sized.Head.BodyKind);
        Assert.Equal(3, sized.Head.ContentLength);
    }

    [Theory]
    [InlineData("HTTP/1.1", null, true)]
    [InlineData("HTTP/1.1", "close", false)]
    [InlineData("HTTP/1.1", "keep-alive, CLOSE", false)]
    [InlineData("HTTP/1.1", "Upgrade , Keep-Alive", true)]
    [InlineData("HTTP/1.0", null, false)]
    [InlineData("HTTP/1.0", "keep-alive", true)]
    [InlineData("HTTP/1.0", " ,Keep-Alive,", true)]
    [InlineData("HTTP/1.0", "keep-alive, close", false)]
    [InlineData("HTTP/1.0", "keep-alive-ish", false)]
    public void KeepAliveFollowsTheVersionDefaultAndTheConnectionTokens(string version, string? connection, bool keepAlive)
    {
        string field = connection is null ? "" : $"Connection: {connection}\r\n";
        ParsedRequest request = Parse.Head($"GET / {version}\r\nHost: a\r\n{field}\r\n");

        Assert.Equal(keepAlive, request.Head.KeepAlive);
    }

    [Fact]
    public void ConnectionKeepAliveOnTwoLinesAndCloseOnAnotherIsClose()
    {
        Assert.False(Parse.Head("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n").Head.KeepAlive);
    }

    [Fact]
    public void ExpectContinueCountsInHttp11AndIsIgnoredInHttp10()
    {
        Assert.True(Parse.Head("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n").Head.ExpectContinue);
        Assert.False(Parse.Head("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n").Head.ExpectContinue);
        Assert.False(Parse.Head("PUT / HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\n\r\n").Head.ExpectContinue);
    }

    [Fact]
    public void UpgradeAndConnectionUpgradeAreRecorded()
    {
        HttpRequestHead head = Parse.Head("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n").Head;

        Assert.True(head.HasUpgrade);
        Assert.True(head.ConnectionUpgrade);
        Assert.True(head.KeepAlive);
    }

    [Theory]
    [InlineData("Content-Length: 5\r\nContent-Length: 5\r\n")]
    [InlineData("Content-Length: 5, 5\r\n")]
    [InlineData("Content-Length: 5,5\r\nContent-Length: 005\r\n")]
    public void IdenticalContentLengthsAreOneContentLength(string fields)
    {
        HttpRequestHead head = Parse.Head($"POST / HTTP/1.1\r\nHost: a\r\n{fields}\r\n").Head;

        Assert.Equal(HttpBodyKind.ContentLength, head.BodyKind);
        Assert.Equal(5, head.ContentLength);
    }

    [Fact]
    public void TheLargestContentLengthALongHoldsIsAccepted()
    {
        Assert.Equal(long.MaxValue, Parse.Head($"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {long.MaxValue}\r\n\r\n").Head.ContentLength);
    }

    [Theory]
    [InlineData("chunked")]
    [InlineData("Chunked")]
    [InlineData(" , chunked ,")]
    public void ChunkedAsTheOnlyCodingIsAChunkedBody(string codings)
    {
        Assert.Equal(HttpBodyKind.Chunked, Parse.Head($"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {codings}\r\n\r\n").Head.BodyKind);
    }

    [Fact]
    public void EmptyLinesBeforeTheRequestLineAreSkippedAndConsumed()
    {
        const string Head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        ParsedRequest request = Parse.Head(ParsedRequest.Bytes("\r\n\r\n" + Head), out int consumed);

        Assert.Equal("/", request.Target);
        Assert.Equal(4 + Head.Length, consumed);
    }

    [Fact]
    public void EmptyLinesAloneAreConsumedWhileTheHeadIsAwaited()
    {
        var parser = new HttpParser();
        var handler = new RecordingHandler(new Recorder());

        Assert.False(parser.TryParseHead("\r\n\r\n\r"u8, ref handler, out int consumed, out _));
        Assert.Equal(4, consumed);
    }

    [Fact]
    public void AnEmptyHostIsAccepted()
    {
        Assert.Equal([("Host", "")], Parse.Head("GET / HTTP/1.1\r\nHost:\r\n\r\n").Headers);
    }

    [Fact]
    public void LimitsCanBeRaised()
    {
        var limits = new HttpParserLimits { MaxRequestLineLength = 20_000, MaxHeaderBytes = 100_000, MaxHeaderCount = 1000 };
        string target = "/" + new string('a', 15_000);
        string headers = string.Concat(Enumerable.Range(0, 500).Select(i => $"X-{i}: {new string('v', 100)}\r\n"));

        ParsedRequest request = Parse.Head($"GET {target} HTTP/1.1\r\nHost: a\r\n{headers}\r\n", limits);

        Assert.Equal(target, request.Target);
        Assert.Equal(501, request.Headers.Count);
    }

    [Fact]
    public void ParsingATypicalHeadWithAStructHandlerAllocatesNothing()
    {
        byte[] head = ParsedRequest.Bytes(
            "GET /api/items?id=42&sort=asc HTTP/1.1\r\n" +
            "Host: www.example.com\r\n" +
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0\r\n" +
            "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
            "Accept-Language: en-US,en;q=0.5\r\n" +
            "Accept-Encoding: gzip, deflate, br\r\n" +
            "Connection: keep-alive\r\n" +
            "\r\n");
        var parser = new HttpParser();
        var handler = new CountingHandler();
        parser.TryParseHead(head, ref handler, out _, out _);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            parser.TryParseHead(head, ref handler, out _, out _);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(10_001 * 6, handler.Headers);
        Assert.Equal(10_001 * head.Length, handler.Bytes);
    }

    private struct CountingHandler : IHttpRequestHandler
    {
        public int Headers;
        public long Bytes;

        public void OnRequestLine(HttpRequestLine requestLine) => Bytes += requestLine.Method.Length + requestLine.Target.Length + 12;

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            Headers++;
            Bytes += name.Length + value.Length + 4;
        }

        public void OnHeadersComplete(in HttpRequestHead head) => Bytes += 2;
    }
}
