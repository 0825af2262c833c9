using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.UnitTests.Http.Parsing;

/// <summary>The one body decoder: every framing behind one Decode, and the body limit enforced there alone.</summary>
public sealed class HttpBodyDecoderTests
{
    private static string DecodeAll(HttpBodyDecoder decoder, string input, int maxData = int.MaxValue)
    {
        byte[] bytes = ParsedRequest.Bytes(input);
        var data = new List<byte>();
        var skip = default(NoTrailers);
        int at = 0;
        while (true)
        {
            BodyDecodeStatus status = decoder.Decode(bytes.AsSpan(at), maxData, ref skip, out int consumed, out ReadOnlySpan<byte> slice);
            at += consumed;
            Assert.True(slice.Length <= maxData);
            data.AddRange(slice.ToArray());
            if (status != BodyDecodeStatus.Data)
            {
                Assert.Equal(BodyDecodeStatus.Done, status);
                return ParsedRequest.Latin1(data.ToArray()) + "|" + ParsedRequest.Latin1(bytes.AsSpan(at));
            }
        }
    }

    [Fact]
    public void EachFramingDecodesToItsBodyAndLeavesTheNextRequest()
    {
        var decoder = new HttpBodyDecoder();
        decoder.Begin(HttpBodyKind.ContentLength, 5, maxBodySize: null);
        Assert.Equal("hello|GET", DecodeAll(decoder, "helloGET"));
        Assert.Equal(5, decoder.BytesDecoded);
        Assert.True(decoder.IsComplete);

        decoder.Begin(HttpBodyKind.Chunked, -1, maxBodySize: null);
        Assert.False(decoder.IsComplete);
        Assert.Null(decoder.ContentLength);
        Assert.Equal("hello world|GET", DecodeAll(decoder, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET"));

        decoder.Begin(HttpBodyKind.None, 0, maxBodySize: 0);
        Assert.True(decoder.IsComplete);
        Assert.Equal("|GET", DecodeAll(decoder, "GET"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void NoSliceIsLargerThanTheReaderAsked(int maxData)
    {
        var decoder = new HttpBodyDecoder();
        decoder.Begin(HttpBodyKind.ContentLength, 11, null);
        Assert.Equal("hello world|", DecodeAll(decoder, "hello world", maxData));
        decoder.Begin(HttpBodyKind.Chunked, -1, null);
        Assert.Equal("hello world|", DecodeAll(decoder, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", maxData));
    }

    [Fact]
    public void AContentLengthOverTheLimitIsRejectedAtTheFirstDecodeBeforeAnyByteIsTaken()
    {
        var decoder = new HttpBodyDecoder();
        decoder.Begin(HttpBodyKind.ContentLength, 1001, maxBodySize: 1000);
        int consumed = -1;
        HttpRejectException e = Assert.Throws<HttpRejectException>(() => decoder.Decode(ParsedRequest.Bytes(new string('x', 1001)), out consumed, out _));
        Assert.Equal(HttpRejectReason.BodyTooLarge, e.Reason);
        Assert.Equal(413, e.StatusCode);
        Assert.Equal(-1, consumed);
        Assert.Equal(0, decoder.BytesDecoded);
    }

    [Fact]
    public void AChunkedBodyOverTheLimitIsRejectedAtTheChunkThatTakesItOver()
    {
        var decoder = new HttpBodyDecoder();
        decoder.Begin(HttpBodyKind.Chunked, -1, maxBodySize: 10);
        Assert.Equal("0123456789|", DecodeAll(decoder, "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n"));

        decoder.Begin(HttpBodyKind.Chunked, -1, maxBodySize: 10);
        HttpRejectException e = Assert.Throws<HttpRejectException>(() => DecodeAll(decoder, "5\r\n01234\r\n6\r\n567890\r\n0\r\n\r\n"));
        Assert.Equal(HttpRejectReason.BodyTooLarge, e.Reason);
        Assert.Equal(5, decoder.BytesDecoded); // the first chunk was delivered; the second was refused at its size line
    }

    [Fact]
    public void TheLimitCanBeRaisedOrLiftedUntilTheBodyIsReadButNotAfter()
    {
        var decoder = new HttpBodyDecoder();
        decoder.Begin(HttpBodyKind.ContentLength, 2000, maxBodySize: 1000);
        decoder.MaxBodySize = null;
        Assert.Equal(new string('x', 2000) + "|", DecodeAll(decoder, new string('x', 2000)));
        Assert.Throws<InvalidOperationException>(() => decoder.MaxBodySize = 5000);

        decoder.Begin(HttpBodyKind.ContentLength, 2000, maxBodySize: 1000);
        decoder.MaxBodySize = 2000;
        Assert.Equal(2000, DecodeAll(decoder, new string('y', 2000)).Length - 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpBodyDecoder().MaxBodySize = -1);
    }

    private struct NoTrailers : IHttpTrailerHandler
    {
        public readonly void OnTrailer(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
        }
    }
}
