using static Eddy.UnitTests.WebSockets.WebSocketCodecSupport;

namespace Eddy.UnitTests.WebSockets;

/// <summary>Limits (Autobahn|Testsuite section 9 sends large messages; a server with limits fails over them with 1009, §7.4.1), as soon as a header declares too much.</summary>
public sealed class Autobahn9LimitsTests
{
    [Fact]
    public void AMessageAtTheLimitIsReadAndOneByteMoreFailsWith1009AtTheHeader()
    {
        Assert.Equal(["binary:" + Convert.ToHexString(new byte[1000])], DecodeEverySplit(Frame(0x2, new byte[1000]), maxMessage: 1000));
        byte[] header = Frame(0x2, [], declared: 1001);  // the header alone: no payload is needed to refuse it
        Assert.Equal(["error:1009"], DecodeEverySplit(header, maxMessage: 1000));
    }

    [Fact]
    public void AFragmentedMessageFailsAtTheHeaderOfTheFragmentThatPassesTheLimit()
    {
        byte[] input = Concat(Frame(0x1, new byte[600], fin: false), Frame(0x0, [], fin: false, declared: 401));
        Assert.Equal(["error:1009"], DecodeEverySplit(input, maxMessage: 1000));
    }

    [Fact]
    public void AFrameOverTheFrameLimitFailsWith1009()
    {
        Assert.Equal(["error:1009"], DecodeEverySplit(Frame(0x2, [], declared: 70000), maxFrame: 65536));
        Assert.Equal(["binary:" + Convert.ToHexString(new byte[200])], DecodeEverySplit(Concat(Frame(0x2, new byte[100], fin: false), Frame(0x0, new byte[100])), maxFrame: 100));
    }

    [Fact]
    public void AThirtyThreeMebibyteHeaderFailsAThirtyTwoMebibyteLimit()
    {
        Assert.Equal(["error:1009"], Decode(Frame(0x2, [], declared: 33L * 1024 * 1024), maxMessage: 32L * 1024 * 1024));
    }

    [Fact]
    public void ControlFramesDoNotCountTowardsTheMessageLimit()
    {
        byte[] input = Concat(Frame(0x2, new byte[10], fin: false), Frame(0x9, new byte[125]), Frame(0x0, new byte[10]));
        Assert.Equal(["ping:" + new string('\0', 125), "binary:" + Convert.ToHexString(new byte[20])], DecodeEverySplit(input, maxMessage: 20));
    }
}
