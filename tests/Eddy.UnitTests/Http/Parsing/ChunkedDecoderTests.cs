using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.UnitTests.Http.Parsing;

/// <summary>The chunked body decoder: data as slices of the input, any split, strict framing, trailers apart.</summary>
public sealed class ChunkedDecoderTests
{
    private const string Body =
        "5;name=value\r\nhello\r\n" +
        "1 \t; a ; b=\"x; y\"\r\n,\r\n" +
        "00000A\r\n0123456789\r\n" +
        "1a\r\nabcdefghijklmnopqrstuvwxyz\r\n" +
        "0;last=1\r\nChecksum: abc\r\nX-Trailer:\t two  words \r\n\r\n";

    private const string BodyData = "hello,0123456789abcdefghijklmnopqrstuvwxyz";

    private sealed record Decoded(string Data, List<(string Name, string Value)> Trailers, int Consumed, bool Done);

    /// <summary>Decodes <paramref name="body"/> fed in segments the way a server feeds it (keeping the unconsumed tail).</summary>
    private static Decoded Decode(string body, HttpParserLimits? limits = null, params int[] segments)
    {
        var decoder = new ChunkedDecoder(limits ?? HttpParserLimits.Default);
        var recorder = new Recorder();
        recorder.Requests.Add(new ParsedRequest());
        var handler = new RecordingHandler(recorder);
        byte[] bytes = ParsedRequest.Bytes(body);
        var data = new List<byte>();
        byte[] tail = [];
        int consumed = 0;
        int offset = 0;
        bool done = false;
        foreach (int size in segments.Length == 0 ? [bytes.Length] : segments.Append(bytes.Length))
        {
            int end = Math.Min(bytes.Length, offset + size);
            byte[] input = [.. tail, .. bytes.AsSpan(offset, end - offset)];
            offset = end;
            int used = 0;
            while (!done)
            {
                BodyDecodeStatus status = decoder.Decode(input.AsSpan(used), ref handler, out int n, out ReadOnlySpan<byte> slice);
                used += n;
                if (status == BodyDecodeStatus.NeedMoreData)
                {
                    break;
                }
                if (status == BodyDecodeStatus.Done)
                {
                    done = true;
                    Assert.True(decoder.IsComplete);
                }
                else
                {
                    Assert.False(slice.IsEmpty);
                    data.AddRange(slice.ToArray());
                }
            }
            consumed += used;
            tail = input[used..];
            if (done || offset == bytes.Length)
            {
                break;
            }
        }
        return new Decoded(ParsedRequest.Latin1(data.ToArray()), recorder.Current.Trailers, consumed, done);
    }

    private static void AssertRejected(string body, HttpRejectReason reason, int status = 400, HttpParserLimits? limits = null)
    {
        HttpRejectException e = Assert.Throws<HttpRejectException>(() => Decode(body, limits));
        Assert.Equal(reason, e.Reason);
        Assert.Equal(status, e.StatusCode);
    }

    [Fact]
    public void AChunkedBodyDecodesToItsDataAndTrailers()
    {
        Decoded decoded = Decode(Body + "GET / HTTP/1.1\r\n");

        Assert.True(decoded.Done);
        Assert.Equal(BodyData, decoded.Data);
        Assert.Equal([("Checksum", "abc"), ("X-Trailer", "two  words")], decoded.Trailers);
        Assert.Equal(Body.Length, decoded.Consumed);
    }

    [Fact]
    public void DataComesBackAsSlicesOfTheInputNotCopies()
    {
        byte[] input = ParsedRequest.Bytes("5\r\nhello\r\n0\r\n\r\n");
        var decoder = new ChunkedDecoder();

        Assert.Equal(BodyDecodeStatus.Data, decoder.Decode(input, out int consumed, out ReadOnlySpan<byte> data));

        Assert.True(((ReadOnlySpan<byte>)input).Overlaps(data, out int offset));
        Assert.Equal(3, offset);
        Assert.Equal(5, data.Length);
        Assert.Equal(8, consumed);
    }

    [Fact]
    public void EveryTwoSegmentSplitDecodesToTheSameBody()
    {
        for (int split = 0; split <= Body.Length; split++)
        {
            Decoded decoded = Decode(Body, null, split);

            Assert.True(decoded.Done, $"split at {split}");
            Assert.Equal(BodyData, decoded.Data);
            Assert.Equal(2, decoded.Trailers.Count);
            Assert.Equal(Body.Length, decoded.Consumed);
        }
    }

    [Fact]
    public void OneByteAtATimeDecodesToTheSameBody()
    {
        Decoded decoded = Decode(Body, null, Enumerable.Repeat(1, Body.Length).ToArray());

        Assert.True(decoded.Done);
        Assert.Equal(BodyData, decoded.Data);
        Assert.Equal([("Checksum", "abc"), ("X-Trailer", "two  words")], decoded.Trailers);
    }

    [Fact]
    public void FramingBytesAreConsumedAsTheyArriveButATrailerLineOnlyWhenComplete()
    {
        var decoder = new ChunkedDecoder();

        Assert.Equal(BodyDecodeStatus.NeedMoreData, decoder.Decode("5;ext"u8, out int consumed, out _));
        Assert.Equal(5, consumed);
        Assert.Equal(BodyDecodeStatus.NeedMoreData, decoder.Decode("=1\r"u8, out consumed, out _));
        Assert.Equal(3, consumed);
        Assert.Equal(BodyDecodeStatus.NeedMoreData, decoder.Decode("\n"u8, out consumed, out _));
        Assert.Equal(1, consumed);
        Assert.Equal(BodyDecodeStatus.Data, decoder.Decode("hel"u8, out consumed, out ReadOnlySpan<byte> data));
        Assert.Equal("hel", ParsedRequest.Latin1(data));
        Assert.Equal(BodyDecodeStatus.Data, decoder.Decode("lo\r\n0\r\nX: "u8, out consumed, out data));
        Assert.Equal(2, consumed);
        Assert.Equal(BodyDecodeStatus.NeedMoreData, decoder.Decode("\r\n0\r\nX: "u8, out consumed, out _));
        Assert.Equal(5, consumed);
        Assert.Equal(BodyDecodeStatus.Done, decoder.Decode("X: 1\r\n\r\nNEXT"u8, out consumed, out _));
        Assert.Equal(8, consumed);
        Assert.Equal(BodyDecodeStatus.Done, decoder.Decode("NEXT"u8, out consumed, out _));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void ResetPreparesForTheNextBody()
    {
        var decoder = new ChunkedDecoder();
        Assert.Equal(BodyDecodeStatus.Done, decoder.Decode("0\r\n\r\n"u8, out _, out _));

        decoder.Reset();

        Assert.False(decoder.IsComplete);
        Assert.Equal(BodyDecodeStatus.Data, decoder.Decode("3\r\nabc"u8, out _, out _));
        Assert.Equal(3, decoder.BodyLength);
    }

    [Theory]
    [InlineData("a", 10)]
    [InlineData("A", 10)]
    [InlineData("0000000000000010", 16)]
    [InlineData("fF", 255)]
    public void ChunkSizesAreHexOfEitherCaseWithLeadingZeros(string size, int length)
    {
        string body = $"{size}\r\n{new string('x', length)}\r\n0\r\n\r\n";

        Assert.Equal(length, Decode(body).Data.Length);
    }

    [Fact]
    public void TheLargestChunkSizeALongHoldsIsAccepted()
    {
        var decoder = new ChunkedDecoder();

        Assert.Equal(BodyDecodeStatus.Data, decoder.Decode("7fffffffffffffff\r\nabc"u8, out _, out _));
        Assert.Equal(long.MaxValue, decoder.BodyLength);
    }

    [Fact]
    public void ExtensionsUpToTheLimitAreSkipped()
    {
        var limits = new HttpParserLimits { MaxChunkExtensionLength = 10 };

        Assert.Equal("abc", Decode("3;123456789\r\nabc\r\n0\r\n\r\n", limits).Data);
        AssertRejected("3;1234567890\r\nabc\r\n0\r\n\r\n", HttpRejectReason.ChunkExtensionTooLong, 400, limits);
    }

    [Fact]
    public void ALongExtensionIsRejectedBeforeTheLineEnds()
    {
        HttpRejectException e = Assert.Throws<HttpRejectException>(() => Decode("3;" + new string('x', 5000)));
        Assert.Equal(HttpRejectReason.ChunkExtensionTooLong, e.Reason);
    }

    [Fact]
    public void TrailersAreSkippedByTheDecodeWithoutAHandler()
    {
        var decoder = new ChunkedDecoder();

        Assert.Equal(BodyDecodeStatus.Done, decoder.Decode("0\r\nA: 1\r\nB: 2\r\n\r\n"u8, out int consumed, out _));
        Assert.Equal(17, consumed);
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData(";ext\r\n")]
    [InlineData("x\r\n")]
    [InlineData(" 5\r\n")]
    [InlineData("-5\r\n")]
    [InlineData("+5\r\n")]
    [InlineData("0x5\r\n")]
    [InlineData("5x\r\n")]
    [InlineData("5 x\r\n")]
    [InlineData("5 \r\n")]
    [InlineData("5\t\r\n")]
    public void AChunkSizeThatIsEmptyNotHexOrFollowedByJunkIsRejected(string line) =>
        AssertRejected(line + "hello\r\n0\r\n\r\n", HttpRejectReason.InvalidChunkSize);

    [Theory]
    [InlineData("8000000000000000")]
    [InlineData("ffffffffffffffff")]
    [InlineData("10000000000000000")]
    [InlineData("00000000000000005")]
    public void AChunkSizeThatOverflowsALongOrHasMoreThan16DigitsIsRejected(string size) =>
        AssertRejected(size + "\r\n", HttpRejectReason.InvalidChunkSize);

    [Theory]
    [InlineData("5\nhello\r\n0\r\n\r\n")]
    [InlineData("5\rhello\r\n0\r\n\r\n")]
    [InlineData("5;a\nhello\r\n0\r\n\r\n")]
    [InlineData("5\r\nhello\r\n0\n\r\n")]
    public void AChunkSizeLineNotEndingInCrlfIsRejected(string body) =>
        AssertRejected(body, HttpRejectReason.InvalidLineTerminator);

    [Theory]
    [InlineData("5\r\nhelloX\r\n0\r\n\r\n")]
    [InlineData("5\r\nhello\n0\r\n\r\n")]
    [InlineData("5\r\nhello\rX0\r\n\r\n")]
    [InlineData("5\r\nhello world\r\n0\r\n\r\n")]
    public void ChunkDataNotFollowedByCrlfIsRejected(string body) =>
        AssertRejected(body, HttpRejectReason.MissingChunkTerminator);

    [Theory]
    [InlineData("5;a\u0001\r\n")]
    [InlineData("5;a\u0000b\r\n")]
    [InlineData("5;a\u007f\r\n")]
    public void AControlCharacterInAChunkExtensionIsRejected(string line) =>
        AssertRejected(line + "hello\r\n0\r\n\r\n", HttpRejectReason.InvalidChunkExtension);

    [Theory]
    [InlineData("X : y", HttpRejectReason.WhitespaceBeforeColon)]
    [InlineData(" folded", HttpRejectReason.ObsFold)]
    [InlineData("X: a\u0000b", HttpRejectReason.InvalidFieldValue)]
    [InlineData("no-colon", HttpRejectReason.InvalidHeaderLine)]
    [InlineData(": empty-name", HttpRejectReason.InvalidFieldName)]
    public void TrailerFieldsFollowTheHeaderFieldRules(string line, HttpRejectReason reason) =>
        AssertRejected($"0\r\n{line}\r\n\r\n", reason);

    [Fact]
    public void ATrailerLineEndingInABareLfIsRejected() =>
        AssertRejected("0\r\nX: y\n\r\n", HttpRejectReason.InvalidLineTerminator);

    [Fact]
    public void TooManyTrailersAreRejectedWith431()
    {
        var limits = new HttpParserLimits { MaxHeaderCount = 2 };
        Assert.Equal(2, Decode("0\r\nA: 1\r\nB: 2\r\n\r\n", limits).Trailers.Count);
        AssertRejected("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", HttpRejectReason.TooManyHeaders, 431, limits);
    }

    [Fact]
    public void TrailersOverTheByteLimitAreRejectedWith431EvenBeforeTheyEnd()
    {
        var limits = new HttpParserLimits { MaxHeaderBytes = 16 };
        Assert.Single(Decode("0\r\nA: 012345678\r\n\r\n", limits).Trailers);
        AssertRejected("0\r\nA: 0123456789\r\n\r\n", HttpRejectReason.HeadersTooLarge, 431, limits);
        AssertRejected("0\r\nA: 0123456789012345", HttpRejectReason.HeadersTooLarge, 431, limits);
    }

    [Fact]
    public void ABodyOverTheLimitIsRejectedWith413AtTheChunkSizeThatCrossesIt()
    {
        var atLimit = new ChunkedDecoder { MaxBodySize = 10 };
        Assert.Equal(BodyDecodeStatus.Data, atLimit.Decode("5\r\n01234\r\n"u8, out int consumed, out _));
        Assert.Equal(8, consumed);
        Assert.Equal(BodyDecodeStatus.Data, atLimit.Decode("\r\n5\r\n56789"u8, out _, out _));

        var over = new ChunkedDecoder { MaxBodySize = 10 };
        over.Decode("5\r\n01234"u8, out _, out _);
        HttpRejectException e = Assert.Throws<HttpRejectException>(() => over.Decode("\r\n6\r\n"u8, out _, out _));
        Assert.Equal(HttpRejectReason.BodyTooLarge, e.Reason);
        Assert.Equal(413, e.StatusCode);
    }

    [Theory]
    [InlineData("5;a\r\n")]
    [InlineData("5;a=b\r\n")]
    [InlineData("5 ; a = b ; c\r\n")]
    [InlineData("5;a=\"\"\r\n")]
    [InlineData("5;a=\"q \\\" ; x\"\r\n")]
    [InlineData("5;a=\"x\" ;b\r\n")]
    [InlineData("5;!#$%&'*+-.^_`|~=1\r\n")]
    public void ChunkExtensionsThatFollowTheGrammarAreSkipped(string line) =>
        Assert.Equal("hello", Decode(line + "hello\r\n0\r\n\r\n").Data);

    /// <summary>RFC 9112 §7.1.1: <c>chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )</c>, name a token, value a token or a quoted-string.</summary>
    [Theory]
    [InlineData("5;\r\n")]
    [InlineData("5; \r\n")]
    [InlineData("5;;a\r\n")]
    [InlineData("5;=b\r\n")]
    [InlineData("5;a=\r\n")]
    [InlineData("5;a= \r\n")]
    [InlineData("5;a b\r\n")]
    [InlineData("5;a=b c\r\n")]
    [InlineData("5;a=b \r\n")]
    [InlineData("5;a \r\n")]
    [InlineData("5;a=\"x\"y\r\n")]
    [InlineData("5;a=\"unterminated\r\n")]
    [InlineData("5;a=b=c\r\n")]
    [InlineData("5;a@b\r\n")]
    [InlineData("5;(a)\r\n")]
    [InlineData("5;a=\"x\\\u0001\"\r\n")]
    public void AChunkExtensionThatBreaksTheGrammarIsRejected(string line) =>
        AssertRejected(line + "hello\r\n0\r\n\r\n", HttpRejectReason.InvalidChunkExtension);

    [Fact]
    public void DataIsCappedAtWhatTheReaderAsksFor()
    {
        var decoder = new ChunkedDecoder();
        var skip = default(NoTrailers);
        Assert.Equal(BodyDecodeStatus.Data, decoder.Decode("5\r\nhello\r\n0\r\n\r\n"u8, 2, ref skip, out int consumed, out ReadOnlySpan<byte> data));
        Assert.Equal("he", ParsedRequest.Latin1(data));
        Assert.Equal(5, consumed);
        Assert.Equal(BodyDecodeStatus.Data, decoder.Decode("llo\r\n0\r\n\r\n"u8, 100, ref skip, out consumed, out data));
        Assert.Equal("llo", ParsedRequest.Latin1(data));
    }

    private struct NoTrailers : IHttpTrailerHandler
    {
        public readonly void OnTrailer(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
        }
    }
}
