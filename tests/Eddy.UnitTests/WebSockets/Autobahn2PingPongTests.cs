using System.Text;
using static Eddy.UnitTests.WebSockets.WebSocketCodecSupport;

namespace Eddy.UnitTests.WebSockets;

/// <summary>Autobahn|Testsuite section 2, ping and pong (§5.5.2, §5.5.3): payloads up to 125 bytes, unsolicited pongs, control frames between fragments.</summary>
public sealed class Autobahn2PingPongTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(125)]
    public void APingIsReportedWithItsPayload(int length)
    {
        string payload = new('p', length);
        Assert.Equal(["ping:" + payload], DecodeEverySplit(Frame(0x9, Encoding.ASCII.GetBytes(payload))));
    }

    [Fact]
    public void APingWithA126BytePayloadFailsWith1002()
    {
        Assert.Equal(["error:1002"], DecodeEverySplit(Frame(0x9, new byte[126])));
    }

    [Fact]
    public void ABinaryPingPayloadComesBackByteForByte()
    {
        byte[] payload = [0x00, 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0x00, 0xFF];
        Assert.Equal(["ping:" + Encoding.Latin1.GetString(payload)], DecodeEverySplit(Frame(0x9, payload)));
    }

    [Fact]
    public void AnUnsolicitedPongIsReportedAndIgnorable()
    {
        Assert.Equal(["pong:unsolicited", "text:after"], DecodeEverySplit(Concat(Frame(0xA, "unsolicited"u8), Text("after"))));
    }

    [Fact]
    public void TenPingsInARowAreEachReported()
    {
        byte[] input = Concat(Enumerable.Range(0, 10).Select(i => Frame(0x9, Encoding.ASCII.GetBytes($"p{i}"))).ToArray());
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"ping:p{i}").ToList(), DecodeEverySplit(input));
    }
}
