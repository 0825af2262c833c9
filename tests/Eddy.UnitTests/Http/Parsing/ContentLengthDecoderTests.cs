using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.UnitTests.Http.Parsing;

public sealed class ContentLengthDecoderTests
{
    [Fact]
    public void DataIsReturnedUpToTheLengthAndNothingPastItIsConsumed()
    {
        var decoder = new ContentLengthDecoder(8);
        byte[] input = "hello"u8.ToArray();

        Assert.Equal(BodyDecodeStatus.Data, decoder.Decode(input, out int consumed, out ReadOnlySpan<byte> data));
        Assert.Equal(5, consumed);
        Assert.True(((ReadOnlySpan<byte>)input).Overlaps(data, out int offset) && offset == 0 && data.Length == 5);
        Assert.Equal(3, decoder.Remaining);

        Assert.Equal(BodyDecodeStatus.Data, decoder.Decode("abcGET"u8, out consumed, out data));
        Assert.Equal("abc", ParsedRequest.Latin1(data));
        Assert.Equal(3, consumed);
        Assert.True(decoder.IsComplete);

        Assert.Equal(BodyDecodeStatus.Done, decoder.Decode("GET"u8, out consumed, out _));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void AnEmptyInputNeedsMoreData()
    {
        var decoder = new ContentLengthDecoder(1);

        Assert.Equal(BodyDecodeStatus.NeedMoreData, decoder.Decode([], out int consumed, out _));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void AZeroLengthBodyIsDoneAtOnce()
    {
        var decoder = new ContentLengthDecoder(0);

        Assert.Equal(BodyDecodeStatus.Done, decoder.Decode("x"u8, out int consumed, out _));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void ALengthBeyondAnIntIsCountedDown()
    {
        var decoder = new ContentLengthDecoder(long.MaxValue);

        Assert.Equal(BodyDecodeStatus.Data, decoder.Decode(new byte[100], out int consumed, out _));
        Assert.Equal(100, consumed);
        Assert.Equal(long.MaxValue - 100, decoder.Remaining);
    }

    [Fact]
    public void ANegativeLengthIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ContentLengthDecoder(-1));
}
