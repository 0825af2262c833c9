using System.IO.Compression;
using System.Text;
using CsCheck;
using Eddy.WebSockets;
using Eddy.WebSockets.Internal;
using static Eddy.UnitTests.WebSockets.WebSocketCodecSupport;

namespace Eddy.UnitTests.WebSockets;

/// <summary>
/// Autobahn|Testsuite sections 12 and 13, permessage-deflate (RFC 7692): RFC 7692's own examples decoded however
/// the bytes are split, context takeover and a peer's final block, RSV1 where it may not be, bytes that are not
/// DEFLATE, a decompression bomb cut at the limit, and the compressor's output read back by the decoder and by zlib
/// itself, for every parameter combination and any split into pieces.
/// </summary>
public sealed class Autobahn12CompressionTests
{
    private static readonly byte[] s_marker = [0x00, 0x00, 0xFF, 0xFF];

    private const int Rsv1 = 4; // Frame's rsv is the three bits RSV1..RSV3 as a number: RSV1 is the high one

    /// <summary>A client's compressed frame: RSV1 set, the payload given (already DEFLATE).</summary>
    private static byte[] Compressed(int opcode, string hex, bool fin = true) => Frame(opcode, Convert.FromHexString(hex.Replace(" ", "")), fin, rsv: Rsv1);

    /// <summary>What zlib's sync flush of <paramref name="data"/> is, without its marker: a sender's payload (a fresh context).</summary>
    private static byte[] Deflated(byte[] data)
    {
        var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(data);
            deflate.Flush();
        }
        byte[] all = output.ToArray();
        int end = all.AsSpan().LastIndexOf(s_marker);
        return all[..end];
    }

    [Theory]
    [InlineData("f2 48 cd c9 c9 07 00")]                            // §7.2.3.1: a message with one compressed block
    [InlineData("00 05 00 fa ff 48 65 6c 6c 6f 00")]               // §7.2.3.3: a block with no compression
    [InlineData("f3 48 cd c9 c9 07 00 00")]                         // §7.2.3.4: a block with BFINAL set
    [InlineData("f2 48 05 00 00 00 ff ff ca c9 c9 07 00")]         // §7.2.3.5: two blocks in one message
    public void Rfc7692sExamplesDecodeToHello(string payload)
    {
        Assert.Equal(["text:Hello"], DecodeEverySplit(Compressed(0x1, payload), inflate: true));
    }

    [Fact]
    public void ACompressedMessageInFragmentsHasRsv1OnItsFirstFrameOnly()
    {
        byte[] stream = Concat(Compressed(0x1, "f2 48 cd", fin: false), Frame(0x0, Convert.FromHexString("c9c90700")));
        Assert.Equal(["text:Hello"], DecodeEverySplit(stream, inflate: true));
    }

    [Fact]
    public void WithContextTakeoverASecondMessageMayReferToTheFirst()
    {
        // §7.2.3.2: the second "Hello" is a back-reference into the first message.
        byte[] stream = Concat(Compressed(0x1, "f2 48 cd c9 c9 07 00"), Compressed(0x1, "f2 00 11 00 00"));
        Assert.Equal(["text:Hello", "text:Hello"], DecodeEverySplit(stream, inflate: true));
    }

    [Fact]
    public void AfterAPeersFinalBlockTheNextMessageStartsAFreshStream()
    {
        byte[] stream = Concat(Compressed(0x1, "f3 48 cd c9 c9 07 00 00"), Compressed(0x1, "f2 48 cd c9 c9 07 00"), Text("plain"), Compressed(0x2, "f2 48 cd c9 c9 07 00"));
        Assert.Equal(["text:Hello", "text:Hello", "text:plain", "binary:48656C6C6F"], DecodeEverySplit(stream, inflate: true));
    }

    [Fact]
    public void WithoutContextTakeoverEveryMessageStandsAlone()
    {
        byte[] first = Deflated("a message, and a message again"u8.ToArray());
        byte[] stream = Concat(Frame(0x1, first, rsv: Rsv1), Frame(0x1, first, rsv: Rsv1));
        Assert.Equal(["text:a message, and a message again", "text:a message, and a message again"], DecodeEverySplit(stream, inflate: true, fresh: true));
    }

    [Theory]
    [InlineData(0x0, Rsv1)]     // RSV1 on a continuation frame (§6.1: on the first frame only)
    [InlineData(0x9, Rsv1)]     // RSV1 on a ping
    [InlineData(0x8, Rsv1)]     // and on a close
    [InlineData(0x1, 2)]        // RSV2: no extension agreed defines it
    [InlineData(0x2, 1)]        // RSV3
    [InlineData(0x1, Rsv1 | 2)]
    public void ReservedBitsPermessageDeflateDoesNotDefineFailWith1002(int opcode, int rsv)
    {
        byte[] frame = opcode == 0x0
            ? Concat(Compressed(0x1, "f2 48 cd", fin: false), Frame(0x0, Convert.FromHexString("c9c90700"), rsv: rsv))
            : Frame(opcode, opcode >= 0x8 ? [] : "x"u8, rsv: rsv);
        Assert.Equal(["error:1002"], DecodeEverySplit(frame, inflate: true));
    }

    [Fact]
    public void BytesThatAreNotDeflateFailWith1007()
    {
        Assert.Equal(["text:ok", "error:1007"], DecodeEverySplit(Concat(Text("ok"), Frame(0x2, [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3], rsv: Rsv1)), inflate: true));
    }

    [Fact]
    public void CompressedTextThatInflatesToInvalidUtf8FailsWith1007()
    {
        Assert.Equal(["error:1007"], DecodeEverySplit(Frame(0x1, Deflated([(byte)'a', 0xC0, 0xAF]), rsv: Rsv1), inflate: true));
        Assert.Equal(["error:1007"], DecodeEverySplit(Frame(0x1, Deflated([(byte)'a', 0xE2, 0x82]), rsv: Rsv1), inflate: true)); // ends inside a sequence
    }

    [Fact]
    public void ADecompressionBombIsCutAtTheMessageLimit()
    {
        byte[] bomb = Deflated(new byte[16 << 20]); // 16 MiB of zeros: ~16 KiB on the wire
        Assert.True(bomb.Length < 64 * 1024, $"{bomb.Length}");
        List<string> events = Decode(Frame(0x2, bomb, rsv: Rsv1), [4096], destinationSize: 64 * 1024, maxMessage: 1 << 20, inflate: true);
        Assert.Equal(["error:1009"], events);
        // At the limit exactly, the same message is fine.
        Assert.Equal("binary:" + Convert.ToHexString(new byte[1 << 20]), Decode(Frame(0x2, Deflated(new byte[1 << 20]), rsv: Rsv1), maxMessage: 1 << 20, inflate: true).Single());
    }

    [Fact]
    public void ACompressedFrameDeclaredFarBeyondWhatTheLimitCanInflateFromFailsAtItsHeader()
    {
        byte[] header = Frame(0x2, [], rsv: Rsv1, declared: 2 << 20, lengthBytes: 8)[..14];
        Assert.Equal(["error:1009"], Decode(header, maxMessage: 1 << 20, inflate: true));
        // Incompressible bytes compress to a little more than they are: still within the limit.
        byte[] noise = Random.Shared.GetItems<byte>(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(), 1 << 20);
        byte[] compressed = Deflated(noise);
        Assert.True(compressed.Length > noise.Length);
        Assert.Equal("binary:" + Convert.ToHexString(noise), Decode(Frame(0x2, compressed, rsv: Rsv1), maxMessage: 1 << 20, inflate: true).Single());
    }

    /// <summary>One message through the compressor, as a client would frame it: the payloads of its frames and whether RSV1 went on.</summary>
    private static (List<byte[]> Frames, bool Compressed) Send(PerMessageDeflater deflater, byte[] message, int[] cuts)
    {
        var frames = new List<byte[]>();
        var pieces = new List<byte[]>();
        int at = 0;
        foreach (int cut in cuts.Where(c => c <= message.Length).Order())
        {
            pieces.Add(message[at..Math.Max(at, cut)]);
            at = Math.Max(at, cut);
        }
        pieces.Add(message[at..]);
        bool compressed = deflater.ShouldCompress(pieces[0].Length, pieces.Count == 1);
        for (int i = 0; i < pieces.Count; i++)
        {
            bool last = i == pieces.Count - 1;
            frames.Add(compressed ? deflater.Compress(pieces[i], last).ToArray() : pieces[i]);
        }
        return (frames, compressed);
    }

    private static readonly Gen<byte[]> s_genMessage = Gen.OneOf(
        Gen.Byte.Array[0, 3000],                                                                   // noise
        Gen.Select(Gen.String[1, 20], Gen.Int[1, 400]).Select((s, n) => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(s, n)))), // repetitive
        Gen.Const(Array.Empty<byte>()));

    [Fact]
    public void WhatTheCompressorSendsDecodesToWhatWasSentForEveryParameterAndSplit()
    {
        Gen.Select(s_genMessage.Array[1, 5], Gen.Int[0, 3000].Array[0, 3], Gen.Bool, Gen.Int[8, 15], Gen.Int[1, 64].Array[1, 4])
            .Sample((messages, cuts, fresh, windowBits, reads) =>
            {
                var options = new WebSocketCompressionOptions { Threshold = 0 };
                using var deflater = new PerMessageDeflater(new DeflateParameters(fresh, windowBits, false), options);
                var stream = new List<byte>();
                var expected = new List<string>();
                var zlibInput = new List<byte>();   // what a plain zlib inflater sees: every compressed payload and its marker
                var zlibExpected = new List<byte>();
                foreach (byte[] message in messages)
                {
                    (List<byte[]> frames, bool compressed) = Send(deflater, message, cuts);
                    if (windowBits < 15 && compressed && (frames.Count > 1 || message.Length > 1 << windowBits))
                    {
                        return false; // a small window: only whole messages that fit it may go compressed
                    }
                    for (int i = 0; i < frames.Count; i++)
                    {
                        stream.AddRange(Frame(i == 0 ? 0x2 : 0x0, frames[i], fin: i == frames.Count - 1, rsv: i == 0 && compressed ? Rsv1 : 0));
                        if (compressed)
                        {
                            zlibInput.AddRange(frames[i]);
                        }
                    }
                    if (compressed)
                    {
                        zlibInput.AddRange([0x00, 0x00, 0xFF, 0xFF]);
                        zlibExpected.AddRange(message);
                    }
                    expected.Add("binary:" + Convert.ToHexString(message));
                }
                if (!Decode([.. stream], reads, destinationSize: 100, inflate: true).SequenceEqual(expected))
                {
                    return false;
                }
                if (fresh || windowBits < 15)
                {
                    return true; // each message is its own stream: the decoder's check above is the whole story
                }
                using var zlib = new DeflateStream(new MemoryStream([.. zlibInput]), CompressionMode.Decompress);
                var inflated = new MemoryStream();
                zlib.CopyTo(inflated);
                return inflated.ToArray().AsSpan().SequenceEqual([.. zlibExpected]);
            }, iter: 400);
    }

    [Fact]
    public void AWholeMessageUnderTheThresholdGoesUncompressedAndOneInPiecesAlwaysCompressed()
    {
        using var deflater = new PerMessageDeflater(new DeflateParameters(false, 15, false), new WebSocketCompressionOptions());
        Assert.False(deflater.ShouldCompress(1023, endOfMessage: true));
        Assert.True(deflater.ShouldCompress(1024, endOfMessage: true));
        Assert.True(deflater.ShouldCompress(10, endOfMessage: false));
        Assert.False(deflater.ShouldCompress(0, endOfMessage: true));
    }

    [Fact]
    public void AMessageThatCompressesToNothingIsSentAsOneByteThatTheMarkerCompletes()
    {
        using var deflater = new PerMessageDeflater(new DeflateParameters(false, 15, false), new WebSocketCompressionOptions { Threshold = 0 });
        byte[] first = deflater.Compress([], endOfMessage: false).ToArray();
        byte[] last = deflater.Compress([], endOfMessage: true).ToArray();
        Assert.Empty(first);
        Assert.Equal([0x00], last);
        Assert.Equal(["text:", "text:Hello"], DecodeEverySplit(Concat(Frame(0x1, first, fin: false, rsv: Rsv1), Frame(0x0, last), Compressed(0x1, "f2 48 cd c9 c9 07 00")), inflate: true));
    }

    [Fact]
    public void TheLastPieceOfAMessageEndsWithoutTheMarkerEvenWhenItIsEmpty()
    {
        using var deflater = new PerMessageDeflater(new DeflateParameters(false, 15, false), new WebSocketCompressionOptions { Threshold = 0 });
        byte[] a = deflater.Compress("Hello, "u8, endOfMessage: false).ToArray();
        byte[] b = deflater.Compress([], endOfMessage: true).ToArray();
        Assert.False(a.AsSpan().EndsWith(s_marker));
        Assert.Empty(b);
        byte[] c = deflater.Compress("Hello, Hello, "u8, endOfMessage: true).ToArray();
        Assert.False(c.AsSpan().EndsWith(s_marker));
        Assert.Equal(["text:Hello, ", "text:Hello, Hello, "],
            DecodeEverySplit(Concat(Frame(0x1, a, fin: false, rsv: Rsv1), Frame(0x0, b), Frame(0x1, c, rsv: Rsv1)), inflate: true));
    }
}
