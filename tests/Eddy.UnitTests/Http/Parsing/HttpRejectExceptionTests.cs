using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.UnitTests.Http.Parsing;

public sealed class HttpRejectExceptionTests
{
    [Fact]
    public void EveryReasonMapsToItsStatusCode()
    {
        var special = new Dictionary<HttpRejectReason, int>
        {
            [HttpRejectReason.RequestLineTooLong] = 414,
            [HttpRejectReason.HeadersTooLarge] = 431,
            [HttpRejectReason.TooManyHeaders] = 431,
            [HttpRejectReason.UnsupportedVersion] = 505,
            [HttpRejectReason.UnsupportedTransferCoding] = 501,
            [HttpRejectReason.BodyTooLarge] = 413,
            [HttpRejectReason.BodyTimeout] = 408,
            [HttpRejectReason.FormTooLarge] = 413,
        };

        foreach (HttpRejectReason reason in Enum.GetValues<HttpRejectReason>())
        {
            int expected = special.GetValueOrDefault(reason, 400);
            Assert.Equal(expected, HttpRejectException.GetStatusCode(reason));
            Assert.Equal(expected, new HttpRejectException(reason, "x").StatusCode);
        }
    }

    [Fact]
    public void TheMessageEchoesRequestBytesEscapedAndCapped()
    {
        HttpRejectException e = Parse.Rejection("GET /\u0001\"\\" + new string('a', 500) + " HTTP/1.1\r\nHost: a\r\n\r\n");

        Assert.Equal(HttpRejectReason.InvalidRequestTarget, e.Reason);
        Assert.StartsWith("Invalid request target: \"GET /\\x01\\x22\\x5Caaa", e.Message);
        Assert.EndsWith("aaa...\"", e.Message);
        int echoed = e.Message.Length - "Invalid request target: \"".Length - "\"".Length;
        Assert.InRange(echoed, 60, 64 + 3);
        Assert.DoesNotContain('\u0001', e.Message);
    }

    [Fact]
    public void ARejectionIsAnIOException()
    {
        Assert.IsAssignableFrom<IOException>(new HttpRejectException(HttpRejectReason.InvalidMethod, "x"));
    }
}
