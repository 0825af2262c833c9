using System.Text;
using static Eddy.UnitTests.WebSockets.WebSocketCodecSupport;

namespace Eddy.UnitTests.WebSockets;

/// <summary>Autobahn|Testsuite section 1, framing: text and binary messages of every length encoding, whole and chopped; §5.1 masking; §5.2 lengths.</summary>
public sealed class Autobahn1FramingTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(65535)]
    [InlineData(65536)]
    public void TextMessagesOfEveryLengthEncodingAreDecodedWholeAndChopped(int length)
    {
        string text = new('*', length);
        List<string> events = length > 4096 ? Decode(Text(text), [997]) : DecodeEverySplit(Text(text));
        Assert.Equal(["text:" + text], events);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65535)]
    [InlineData(65536)]
    public void BinaryMessagesOfEveryLengthEncodingAreDecodedWholeAndChopped(int length)
    {
        byte[] payload = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
        List<string> events = length > 4096 ? Decode(Frame(0x2, payload), [1000, 3]) : DecodeEverySplit(Frame(0x2, payload));
        Assert.Equal(["binary:" + Convert.ToHexString(payload)], events);
    }

    [Fact]
    public void ManyMessagesInOneReadAreEachReported()
    {
        Assert.Equal(["text:a", "binary:0102", "text:"], DecodeEverySplit(Concat(Text("a"), Frame(0x2, [1, 2]), Text(""))));
    }

    [Fact]
    public void AnUnmaskedClientFrameFailsWith1002()
    {
        Assert.Equal(["error:1002"], DecodeEverySplit(Frame(0x1, "hi"u8, masked: false)));
    }

    [Fact]
    public void AMaskedServerFrameFailsAClientWith1002AndAnUnmaskedOneIsRead()
    {
        Assert.Equal(["error:1002"], Decode(Frame(0x1, "hi"u8), isServer: false));
        Assert.Equal(["text:hi"], Decode(Frame(0x1, "hi"u8, masked: false), isServer: false));
    }

    [Theory]
    [InlineData(100, 2)]   // a 16-bit length for what fits in 7 bits
    [InlineData(125, 2)]
    [InlineData(126, 8)]   // a 64-bit length for what fits in 16 bits
    [InlineData(65535, 8)]
    public void ANonMinimalLengthFailsWith1002(int length, int lengthBytes)
    {
        Assert.Equal(["error:1002"], DecodeEverySplit(Frame(0x2, new byte[length], lengthBytes: lengthBytes)));
    }

    [Fact]
    public void A64BitLengthWithItsMostSignificantBitSetFailsWith1002()
    {
        byte[] frame = Frame(0x2, [], declared: 1L << 40, lengthBytes: 8);
        frame[2] |= 0x80;
        Assert.Equal(["error:1002"], DecodeEverySplit(frame));
    }

    [Fact]
    public void NothingIsReportedUntilAFrameIsWhole()
    {
        byte[] frame = Text("hello");
        for (int cut = 0; cut < frame.Length; cut++)
        {
            Assert.Empty(Decode(frame[..cut]));
        }
        Assert.Equal(["text:hello"], Decode(frame));
        Assert.Equal("hello", Encoding.UTF8.GetString(Encoding.UTF8.GetBytes("hello")));
    }
}
