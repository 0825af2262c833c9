using static Eddy.UnitTests.WebSockets.WebSocketCodecSupport;

namespace Eddy.UnitTests.WebSockets;

/// <summary>Autobahn|Testsuite section 3, reserved bits (§5.2): without a negotiated extension any RSV bit fails the connection with 1002.</summary>
public sealed class Autobahn3ReservedBitsTests
{
    [Theory]
    [InlineData(0x1, 1)]
    [InlineData(0x1, 2)]
    [InlineData(0x1, 4)]
    [InlineData(0x2, 3)]
    [InlineData(0x2, 5)]
    [InlineData(0x9, 6)]
    [InlineData(0x8, 7)]
    public void AReservedBitFailsWith1002(int opcode, int rsv)
    {
        Assert.Equal(["error:1002"], DecodeEverySplit(Frame(opcode, "x"u8, rsv: rsv)));
    }

    [Fact]
    public void TheMessagesBeforeAFrameWithAReservedBitAreStillReported()
    {
        Assert.Equal(["text:ok", "error:1002"], DecodeEverySplit(Concat(Text("ok"), Frame(0x1, "bad"u8, rsv: 1), Text("never"))));
    }
}
