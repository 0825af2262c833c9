using static Eddy.UnitTests.WebSockets.WebSocketCodecSupport;

namespace Eddy.UnitTests.WebSockets;

/// <summary>Autobahn|Testsuite section 5, fragmentation (§5.4): messages in pieces, control frames between them, and the broken cases.</summary>
public sealed class Autobahn5FragmentationTests
{
    [Fact]
    public void AFragmentedPingFailsWith1002()
    {
        Assert.Equal(["error:1002"], DecodeEverySplit(Concat(Frame(0x9, "frag"u8, fin: false), Frame(0x0, "ment"u8))));
    }

    [Fact]
    public void ATextMessageInTwoFragmentsIsOneMessage()
    {
        Assert.Equal(["text:fragment1fragment2"], DecodeEverySplit(Concat(Text("fragment1", fin: false), Frame(0x0, "fragment2"u8))));
    }

    [Fact]
    public void APingAndAPongBetweenFragmentsAreReportedInOrder()
    {
        byte[] input = Concat(Text("one", fin: false), Frame(0x9, "ping"u8), Frame(0x0, "two"u8, fin: false), Frame(0xA, "pong"u8), Frame(0x0, "three"u8));
        Assert.Equal(["ping:ping", "pong:pong", "text:onetwothree"], DecodeEverySplit(input));
    }

    [Fact]
    public void ManyEmptyFragmentsMakeOneMessage()
    {
        byte[] input = Concat(Frame(0x2, [], fin: false), Frame(0x0, [], fin: false), Frame(0x0, [7], fin: false), Frame(0x0, []));
        Assert.Equal(["binary:07"], DecodeEverySplit(input));
    }

    [Fact]
    public void AContinuationWithNoMessageToContinueFailsWith1002()
    {
        Assert.Equal(["error:1002"], DecodeEverySplit(Frame(0x0, "lonely"u8)));
        Assert.Equal(["text:done", "error:1002"], DecodeEverySplit(Concat(Text("done"), Frame(0x0, "late"u8))));
    }

    [Fact]
    public void ANewDataMessageInsideAFragmentedOneFailsWith1002()
    {
        Assert.Equal(["error:1002"], DecodeEverySplit(Concat(Text("first", fin: false), Text("second"))));
        Assert.Equal(["error:1002"], DecodeEverySplit(Concat(Frame(0x2, [1], fin: false), Frame(0x2, [2]))));
    }
}
