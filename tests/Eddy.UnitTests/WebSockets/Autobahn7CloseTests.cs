using static Eddy.UnitTests.WebSockets.WebSocketCodecSupport;

namespace Eddy.UnitTests.WebSockets;

/// <summary>Autobahn|Testsuite section 7, close handling (§5.5.1, §7.4): the payload's code and reason are checked.</summary>
public sealed class Autobahn7CloseTests
{
    [Fact]
    public void ACloseWithoutPayloadIsReportedAs1005()
    {
        Assert.Equal(["close:1005:"], DecodeEverySplit(Frame(0x8, [])));
    }

    [Fact]
    public void ACloseWithAOneBytePayloadFailsWith1002()
    {
        Assert.Equal(["error:1002"], DecodeEverySplit(Frame(0x8, [0x03])));
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(1001)]
    [InlineData(1002)]
    [InlineData(1003)]
    [InlineData(1007)]
    [InlineData(1008)]
    [InlineData(1009)]
    [InlineData(1010)]
    [InlineData(1011)]
    [InlineData(3000)]
    [InlineData(3999)]
    [InlineData(4000)]
    [InlineData(4999)]
    public void AValidCodeIsReportedWithItsReason(int code)
    {
        Assert.Equal([$"close:{code}:bye ✓"], DecodeEverySplit(Close(code, "bye ✓")));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(999)]
    [InlineData(1004)]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(1016)]
    [InlineData(1100)]
    [InlineData(2000)]
    [InlineData(2999)]
    [InlineData(5000)]
    [InlineData(65535)]
    public void ACodeNeverSentOnTheWireFailsWith1002(int code)
    {
        Assert.Equal(["error:1002"], DecodeEverySplit(Close(code)));
    }

    [Fact]
    public void AReasonThatIsNotUtf8FailsWith1007()
    {
        Assert.Equal(["error:1007"], DecodeEverySplit(Frame(0x8, [0x03, 0xE8, 0xCE, 0xBA, 0xED, 0xA0, 0x80])));
    }

    [Fact]
    public void AClosePayloadOf125BytesIsReadAnd126FailsWith1002()
    {
        string reason = new('r', 123);
        Assert.Equal([$"close:1000:{reason}"], DecodeEverySplit(Close(1000, reason)));
        Assert.Equal(["error:1002"], DecodeEverySplit(Close(1000, reason + "r")));
    }

    [Fact]
    public void NothingAfterACloseIsDecoded()
    {
        Assert.Equal(["text:a", "close:1000:"], DecodeEverySplit(Concat(Text("a"), Close(1000), Text("b"))));
    }
}
