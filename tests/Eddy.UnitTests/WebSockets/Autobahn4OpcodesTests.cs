using static Eddy.UnitTests.WebSockets.WebSocketCodecSupport;

namespace Eddy.UnitTests.WebSockets;

/// <summary>Autobahn|Testsuite section 4, opcodes (§5.2): the reserved data (3–7) and control (11–15) opcodes fail with 1002.</summary>
public sealed class Autobahn4OpcodesTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    public void AReservedOpcodeFailsWith1002(int opcode)
    {
        Assert.Equal(["text:before", "error:1002"], DecodeEverySplit(Concat(Text("before"), Frame(opcode, "x"u8), Text("after"))));
    }
}
