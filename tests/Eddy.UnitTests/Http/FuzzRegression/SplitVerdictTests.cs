using Eddy.Http;
using Eddy.Http.Parsing;
using Eddy.UnitTests.Http.Parsing;

namespace Eddy.UnitTests.Http.FuzzRegression;

/// <summary>
/// What fuzzing found (fuzz/README.md, the split target): the same bad request got a different
/// rejection - even a different status - depending on how its bytes were split into reads, because a
/// complete head and a head still arriving were checked in different orders. The rule now: the verdict
/// is the one the bytes get arriving one at a time, so the first byte that rules the request out
/// decides, whole or in pieces.
/// </summary>
public sealed class SplitVerdictTests
{
    private static readonly HttpParserLimits s_limits = new() { MaxRequestLineLength = 32, MaxHeaderBytes = 48 };

    /// <summary>Feeds <paramref name="request"/> whole, a byte at a time, and in pieces of several sizes: every feeding is rejected for <paramref name="reason"/>.</summary>
    private static void AssertRejectedAlikeHoweverSplit(string request, HttpRejectReason reason)
    {
        byte[] bytes = ParsedRequest.Bytes(request);
        foreach (int piece in new[] { bytes.Length, 1, 2, 3, 5, 8, 13, 30 })
        {
            var reader = new RequestStreamReader(s_limits);
            HttpRejectException e = Assert.Throws<HttpRejectException>(() =>
            {
                for (int offset = 0; offset < bytes.Length; offset += piece)
                {
                    reader.DataReceived(bytes.AsSpan(offset, Math.Min(piece, bytes.Length - offset)));
                }
            });
            Assert.True(reason == e.Reason, $"in pieces of {piece}: {e.Reason}, not {reason}");
        }
    }

    [Fact]
    public void AMethodThatIsNotATokenIsRejectedBeforeTheBareLfThatEndsItsLine() =>
        AssertRejectedAlikeHoweverSplit("G\u0000T / HTTP/1.1\nHost: a\r\n\r\n", HttpRejectReason.InvalidMethod);

    [Fact]
    public void ALeadingSpaceIsRejectedBeforeTheBareLfThatEndsItsLine() =>
        AssertRejectedAlikeHoweverSplit(" GET / HTTP/1.1\nHost: a\r\n\r\n", HttpRejectReason.InvalidRequestLine);

    [Fact]
    public void AMethodThatIsNotATokenIsRejectedBeforeItsLineOutgrowsTheLimit() =>
        AssertRejectedAlikeHoweverSplit($"G\u0000T /{new string('a', 40)} HTTP/1.1\r\nHost: a\r\n\r\n", HttpRejectReason.InvalidMethod);

    [Fact]
    public void ARequestLineOverTheLimitIsRejectedAsTooLongEvenIfItEndsInABareLf() =>
        // The field line after it keeps the head incomplete when the LF arrives in a later piece.
        AssertRejectedAlikeHoweverSplit($"GET /{new string('a', 30)} HTTP/1.1\nHost: a\r\nX: {new string('v', 30)}\r\n\r\n", HttpRejectReason.RequestLineTooLong);

    [Fact]
    public void ARequestLineThatCouldNotFitItsCrlfIsTooLongEvenIfABareLfWouldFit()
    {
        // 31 bytes and a bare LF make 32, the limit; but a line is ruled out as soon as 31 bytes without
        // a CR have arrived, since its CRLF would take it to 33.
        string line = "GET /" + new string('a', 31 - "GET / HTTP/1.1".Length) + " HTTP/1.1";
        Assert.Equal(31, line.Length);
        AssertRejectedAlikeHoweverSplit(line + "\nHost: a\r\n\r\n", HttpRejectReason.RequestLineTooLong);
    }

    [Fact]
    public void AFieldLineOverTheHeaderLimitIsRejectedAsTooLargeEvenIfItEndsInABareLf() =>
        AssertRejectedAlikeHoweverSplit($"GET / HTTP/1.1\r\nHost: a\r\nX: {new string('v', 40)}\n\r\n", HttpRejectReason.HeadersTooLarge);

    [Fact]
    public void AnInvalidHostIsRejectedBeforeAMalformedFieldLineAfterIt() =>
        AssertRejectedAlikeHoweverSplit("GET / HTTP/1.1\r\nHost: a b\r\nBad Name: x\r\n\r\n", HttpRejectReason.InvalidHost);

    [Fact]
    public void AnInvalidContentLengthIsRejectedBeforeAMalformedFieldLineAfterIt() =>
        AssertRejectedAlikeHoweverSplit("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n: y\r\n\r\n", HttpRejectReason.InvalidContentLength);

    [Fact]
    public void ATrailerLineOverTheLimitIsRejectedAsTooLargeEvenIfItEndsInABareLf() =>
        AssertRejectedAlikeHoweverSplit(
            $"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: {new string('v', 50)}\n\r\n",
            HttpRejectReason.HeadersTooLarge);
}
