using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.UnitTests.Http.Parsing;

/// <summary>One test per class of malformed head in the strictness table at the top of HttpParser.cs.</summary>
public sealed partial class HttpParserTests
{
    private static void AssertRejected(string request, HttpRejectReason reason, int status, HttpParserLimits? limits = null)
    {
        HttpRejectException e = Parse.Rejection(request, limits);
        Assert.Equal(reason, e.Reason);
        Assert.Equal(status, e.StatusCode);
    }

    /// <summary>The head is rejected before it is complete: with the empty line missing, as soon as the bad part is in.</summary>
    private static void AssertRejectedEarly(string partialHead, HttpRejectReason reason, int status, HttpParserLimits? limits = null)
    {
        Assert.DoesNotContain("\r\n\r\n", partialHead);
        AssertRejected(partialHead, reason, status, limits);
    }

    // Request-line

    [Fact]
    public void ARequestLineEndingInABareLfIsRejected() =>
        AssertRejected("GET / HTTP/1.1\nHost: a\r\n\r\n", HttpRejectReason.InvalidLineTerminator, 400);

    [Fact]
    public void AFieldLineEndingInABareLfIsRejected() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", HttpRejectReason.InvalidLineTerminator, 400);

    [Fact]
    public void AHeadEndingInABareLfIsRejectedAtOnce() =>
        AssertRejectedEarly("GET / HTTP/1.1\r\nHost: a\r\n\n", HttpRejectReason.InvalidLineTerminator, 400);

    [Fact]
    public void ABareLfBeforeTheRequestLineIsRejected() =>
        AssertRejected("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", HttpRejectReason.InvalidLineTerminator, 400);

    [Fact]
    public void ABareCrBeforeTheRequestLineIsRejected() =>
        AssertRejected("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", HttpRejectReason.InvalidLineTerminator, 400);

    [Fact]
    public void ABareCrInTheRequestTargetIsRejected() =>
        AssertRejected("GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n", HttpRejectReason.InvalidRequestTarget, 400);

    [Fact]
    public void AMethodThatIsNotATokenIsRejected() =>
        AssertRejected("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", HttpRejectReason.InvalidMethod, 400);

    [Fact]
    public void ANonHttpPeerIsRejectedByItsFirstBytes() =>
        AssertRejectedEarly("\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u00fc\u0003\u0003", HttpRejectReason.InvalidMethod, 400);

    [Fact]
    public void ARequestLineStartingWithASpaceIsRejected() =>
        AssertRejected(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", HttpRejectReason.InvalidRequestLine, 400);

    [Fact]
    public void TwoSpacesBeforeTheTargetAreRejected() =>
        AssertRejected("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", HttpRejectReason.InvalidRequestLine, 400);

    [Fact]
    public void TwoSpacesBeforeTheVersionAreRejected() =>
        AssertRejected("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", HttpRejectReason.InvalidRequestLine, 400);

    [Fact]
    public void ATrailingSpaceAfterTheVersionIsRejected() =>
        AssertRejected("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", HttpRejectReason.InvalidRequestLine, 400);

    [Fact]
    public void TabsAsRequestLineSeparatorsAreRejected() =>
        AssertRejected("GET\t/\tHTTP/1.1\r\nHost: a\r\n\r\n", HttpRejectReason.InvalidMethod, 400);

    [Fact]
    public void ARequestLineWithoutAVersionIsRejected() =>
        AssertRejected("GET /\r\nHost: a\r\n\r\n", HttpRejectReason.InvalidRequestLine, 400);

    [Fact]
    public void ATargetWithASpaceIsRejected() =>
        AssertRejected("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", HttpRejectReason.InvalidRequestLine, 400);

    [Theory]
    [InlineData("/a\u0001b")]
    [InlineData("/a\u0000b")]
    [InlineData("/a\u007fb")]
    [InlineData("/caf\u00e9")]
    [InlineData("/page#fragment")]
    public void ATargetWithAControlCharacterNonAsciiByteOrFragmentIsRejected(string target) =>
        AssertRejected($"GET {target} HTTP/1.1\r\nHost: a\r\n\r\n", HttpRejectReason.InvalidRequestTarget, 400);

    [Theory]
    [InlineData("GET a/b")]
    [InlineData("GET example.com:80")]
    [InlineData("GET http:/x")]
    [InlineData("GET http:///path")]
    [InlineData("GET http://user:pass@example.com/")]
    [InlineData("GET 1http://example.com/")]
    [InlineData("GET *")]
    [InlineData("POST *")]
    [InlineData("CONNECT /")]
    [InlineData("CONNECT *")]
    [InlineData("CONNECT example.com")]
    [InlineData("CONNECT example.com:")]
    [InlineData("CONNECT user@example.com:443")]
    [InlineData("CONNECT ::1:443")]
    [InlineData("CONNECT http://example.com:443")]
    public void ATargetInAFormTheMethodDoesNotAllowIsRejected(string methodAndTarget) =>
        AssertRejected($"{methodAndTarget} HTTP/1.1\r\nHost: a\r\n\r\n", HttpRejectReason.InvalidRequestTarget, 400);

    [Theory]
    [InlineData("http/1.1")]
    [InlineData("HTTP/1.10")]
    [InlineData("HTTP/11")]
    [InlineData("HTTP/1.")]
    [InlineData("HTTPS/1.1")]
    [InlineData("HTTP/1,1")]
    public void AMalformedVersionIsRejectedWith400(string version) =>
        AssertRejected($"GET / {version}\r\nHost: a\r\n\r\n", HttpRejectReason.InvalidVersion, 400);

    [Theory]
    [InlineData("HTTP/2.0")]
    [InlineData("HTTP/1.2")]
    [InlineData("HTTP/0.9")]
    [InlineData("HTTP/3.0")]
    public void AWellFormedVersionOtherThan10Or11IsRejectedWith505(string version) =>
        AssertRejected($"GET / {version}\r\nHost: a\r\n\r\n", HttpRejectReason.UnsupportedVersion, 505);

    [Fact]
    public void TheHttp2ConnectionPrefaceIsRejectedWith505() =>
        AssertRejected("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HttpRejectReason.UnsupportedVersion, 505);

    [Fact]
    public void ARequestLineOverTheLimitIsRejectedWith414()
    {
        string target = "/" + new string('a', 8192);
        AssertRejected($"GET {target} HTTP/1.1\r\nHost: a\r\n\r\n", HttpRejectReason.RequestLineTooLong, 414);
    }

    [Fact]
    public void ARequestLineOverTheLimitIsRejectedBeforeItEnds() =>
        AssertRejectedEarly("GET /" + new string('a', 8192), HttpRejectReason.RequestLineTooLong, 414);

    [Fact]
    public void ARequestLineExactlyAtTheLimitIsAccepted()
    {
        var limits = new HttpParserLimits { MaxRequestLineLength = 64 };
        string line = "GET /" + new string('a', 64 - "GET / HTTP/1.1\r\n".Length) + " HTTP/1.1\r\n";
        Assert.Equal(64, line.Length);

        Assert.Single(Parse.Stream(line + "Host: a\r\n\r\n", limits));
        AssertRejected(line.Replace("GET /", "GET /a") + "Host: a\r\n\r\n", HttpRejectReason.RequestLineTooLong, 414, limits);
        AssertRejectedEarly(line.Replace("GET /", "GET /a")[..^2], HttpRejectReason.RequestLineTooLong, 414, limits);
    }

    // Field lines

    [Fact]
    public void WhitespaceBetweenAFieldNameAndItsColonIsRejected() =>
        AssertRejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n", HttpRejectReason.WhitespaceBeforeColon, 400);

    [Fact]
    public void ATabBetweenAFieldNameAndItsColonIsRejected() =>
        AssertRejected("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", HttpRejectReason.WhitespaceBeforeColon, 400);

    [Fact]
    public void ObsFoldIsRejected() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n", HttpRejectReason.ObsFold, 400);

    [Fact]
    public void ObsFoldWithATabIsRejected() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n\ttwo\r\n\r\n", HttpRejectReason.ObsFold, 400);

    [Fact]
    public void WhitespaceBeforeTheFirstFieldLineIsRejected() =>
        AssertRejected("GET / HTTP/1.1\r\n Host: a\r\n\r\n", HttpRejectReason.ObsFold, 400);

    [Fact]
    public void AFieldLineWithoutAColonIsRejected() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n", HttpRejectReason.InvalidHeaderLine, 400);

    [Fact]
    public void AnEmptyFieldNameIsRejected() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: a\r\n: value\r\n\r\n", HttpRejectReason.InvalidFieldName, 400);

    [Theory]
    [InlineData("X(a): b")]
    [InlineData("X\u0000: b")]
    [InlineData("X-Caf\u00e9: b")]
    [InlineData("X\rY: b")]
    [InlineData("X/Y: b")]
    public void AFieldNameThatIsNotATokenIsRejected(string line) =>
        AssertRejected($"GET / HTTP/1.1\r\nHost: a\r\n{line}\r\n\r\n", HttpRejectReason.InvalidFieldName, 400);

    [Theory]
    [InlineData("a\u0000b")]
    [InlineData("a\rb")]
    [InlineData("a\u0001b")]
    [InlineData("a\u001fb")]
    [InlineData("a\u007fb")]
    [InlineData("\u0000")]
    public void ANulCrControlOrDelInAFieldValueIsRejected(string value) =>
        AssertRejected($"GET / HTTP/1.1\r\nHost: a\r\nX: {value}\r\n\r\n", HttpRejectReason.InvalidFieldValue, 400);

    [Fact]
    public void TheRejectionMessageOfAFieldValueNamesTheFieldButNotTheValue()
    {
        HttpRejectException e = Parse.Rejection("GET / HTTP/1.1\r\nHost: a\r\nCookie: secret\u0000\r\n\r\n");

        Assert.Contains("Cookie", e.Message);
        Assert.DoesNotContain("secret", e.Message);
    }

    [Fact]
    public void HeadersOverTheByteLimitAreRejectedWith431()
    {
        string big = new('v', 40_000);
        AssertRejected($"GET / HTTP/1.1\r\nHost: a\r\nX: {big}\r\n\r\n", HttpRejectReason.HeadersTooLarge, 431);
    }

    [Fact]
    public void HeadersOverTheByteLimitAreRejectedBeforeTheHeadEnds()
    {
        string many = string.Concat(Enumerable.Range(0, 40).Select(i => $"X-{i}: {new string('v', 1000)}\r\n"));
        AssertRejectedEarly($"GET / HTTP/1.1\r\nHost: a\r\n{many}", HttpRejectReason.HeadersTooLarge, 431);
        AssertRejectedEarly($"GET / HTTP/1.1\r\nHost: a\r\nX: {new string('v', 33_000)}", HttpRejectReason.HeadersTooLarge, 431);
    }

    [Fact]
    public void HeadersExactlyAtTheByteLimitAreAccepted()
    {
        var limits = new HttpParserLimits { MaxHeaderBytes = 32 };
        const string Fields = "Host: a\r\nX: 1234567890123456\r\n\r\n"; // 9 + 21 + 2 bytes
        Assert.Equal(32, Fields.Length);

        Assert.Single(Parse.Stream("GET / HTTP/1.1\r\n" + Fields, limits));
        AssertRejected("GET / HTTP/1.1\r\n" + Fields.Replace("X: ", "X: 0"), HttpRejectReason.HeadersTooLarge, 431, limits);
    }

    [Fact]
    public void MoreThanOneHundredHeadersAreRejectedWith431()
    {
        string headers = string.Concat(Enumerable.Range(0, 100).Select(i => $"X-{i}: v\r\n"));
        AssertRejected($"GET / HTTP/1.1\r\nHost: a\r\n{headers}\r\n", HttpRejectReason.TooManyHeaders, 431);
        AssertRejectedEarly($"GET / HTTP/1.1\r\nHost: a\r\n{headers}", HttpRejectReason.TooManyHeaders, 431);
    }

    // Host

    [Fact]
    public void AnHttp11RequestWithoutHostIsRejected() =>
        AssertRejected("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", HttpRejectReason.MissingHost, 400);

    [Fact]
    public void TwoHostFieldsAreRejected() =>
        AssertRejected("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", HttpRejectReason.DuplicateHost, 400);

    [Fact]
    public void TwoHostFieldsAreRejectedInHttp10Too() =>
        AssertRejected("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", HttpRejectReason.DuplicateHost, 400);

    [Theory]
    [InlineData("a b")]
    [InlineData("user@example.com")]
    [InlineData("example.com/path")]
    [InlineData("example.com:80x")]
    [InlineData("[::1")]
    [InlineData("a\"b")]
    public void AnInvalidHostIsRejected(string host) =>
        AssertRejected($"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n", HttpRejectReason.InvalidHost, 400);

    // Framing

    [Fact]
    public void TransferEncodingWithContentLengthIsRejectedAsSmuggling() =>
        AssertRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            HttpRejectReason.TransferEncodingWithContentLength, 400);

    [Fact]
    public void ContentLengthAfterTransferEncodingIsRejectedAsSmuggling() =>
        AssertRejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
            HttpRejectReason.TransferEncodingWithContentLength, 400);

    [Fact]
    public void DuplicateContentLengthsThatDifferAreRejected() =>
        AssertRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", HttpRejectReason.ConflictingContentLength, 400);

    [Fact]
    public void AContentLengthListWhoseValuesDifferIsRejected() =>
        AssertRejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!", HttpRejectReason.ConflictingContentLength, 400);

    [Theory]
    [InlineData("+5")]
    [InlineData("-5")]
    [InlineData("1 2")]
    [InlineData("0x5")]
    [InlineData("5a")]
    [InlineData("")]
    [InlineData("5,")]
    [InlineData(",5")]
    [InlineData("5,,5")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999")]
    [InlineData("\u00b2")]
    public void AContentLengthThatIsNotJustDigitsOrOverflowsIsRejected(string value) =>
        AssertRejected($"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {value}\r\n\r\n", HttpRejectReason.InvalidContentLength, 400);

    [Theory]
    [InlineData("gzip, chunked")]
    [InlineData("identity, chunked")]
    [InlineData("x-custom, chunked")]
    public void ATransferCodingOtherThanChunkedIsRejectedWith501(string codings) =>
        AssertRejected($"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {codings}\r\n\r\n", HttpRejectReason.UnsupportedTransferCoding, 501);

    [Fact]
    public void CodingsOnSeveralTransferEncodingLinesAddUp() =>
        AssertRejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", HttpRejectReason.UnsupportedTransferCoding, 501);

    [Theory]
    [InlineData("gzip")]
    [InlineData("chunked, gzip")]
    [InlineData("chunked;q=1")]
    [InlineData("chunked, chunked")]
    [InlineData("")]
    [InlineData(" , ")]
    public void ATransferEncodingWhoseFinalCodingIsNotASingleChunkedIsRejected(string codings) =>
        AssertRejected($"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {codings}\r\n\r\n", HttpRejectReason.ChunkedNotFinal, 400);

    [Fact]
    public void ChunkedOnTwoTransferEncodingLinesIsRejected() =>
        AssertRejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", HttpRejectReason.ChunkedNotFinal, 400);

    [Fact]
    public void TransferEncodingInAnHttp10RequestIsRejected() =>
        AssertRejected("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", HttpRejectReason.TransferEncodingInHttp10, 400);
}
