using System.Text;
using CsCheck;
using Eddy.WebSockets.Internal;
using static Eddy.UnitTests.WebSockets.WebSocketCodecSupport;

namespace Eddy.UnitTests.WebSockets;

/// <summary>
/// The decoder's verdict does not depend on the read boundaries: random streams of frames — valid messages in
/// fragments, control frames between them, then perhaps any bytes — cut into random reads and decoded into
/// random-sized buffers, report exactly what the stream whole reports (as the HTTP parser's split tests demand).
/// </summary>
public sealed class WebSocketDecoderPropertyTests
{
    private static readonly Gen<byte[]> s_genMessage =
        from text in Gen.Bool
        from payload in text ? Gen.String.Select(s => Encoding.UTF8.GetBytes(s)) : Gen.Byte.Array[0, 300]
        from cuts in Gen.Int[0, 3]
        from pingBetween in Gen.Bool
        select MessageFrames(text, payload, cuts, pingBetween);

    private static readonly Gen<byte[]> s_genControl = Gen.OneOf(
        Gen.Byte.Array[0, 125].Select(p => Frame(0x9, p)),
        Gen.Byte.Array[0, 125].Select(p => Frame(0xA, p)));

    private static readonly Gen<byte[]> s_genTail = Gen.Frequency(
        (4, Gen.Const(Array.Empty<byte>())),
        (2, Gen.Byte.Array[1, 40]),                                 // garbage
        (1, Gen.Int[0, 4999].Select(code => Close(code, "x"))),     // a close with any code
        (1, Gen.Byte.Array[1, 20].Select(b => Frame(0x1, b))));     // a text frame that may be invalid UTF-8

    [Fact]
    public void RandomFrameStreamsCutAnywhereDecodeAsTheyDoWhole()
    {
        Gen.Select(Gen.OneOf(s_genMessage, s_genControl).Array[1, 6], s_genTail, Gen.Int[1, 50].Array[1, 8], Gen.Int[1, 400])
            .Sample((frames, tail, pieces, destinationSize) =>
            {
                byte[] stream = frames.SelectMany(f => f).Concat(tail).ToArray();
                List<string> whole = Decode(stream);
                List<string> split = Decode(stream, pieces, destinationSize);
                return whole.SequenceEqual(split);
            }, iter: 5_000);
    }

    [Fact]
    public void RandomValidMessagesDecodeToWhatWasSent()
    {
        Gen.Select(Gen.Bool, Gen.Byte.Array[0, 2000], Gen.Int[0, 5], Gen.Int[1, 100].Array[1, 5]).Sample((pingBetween, payload, cuts, pieces) =>
        {
            List<string> events = Decode(MessageFrames(text: false, payload, cuts, pingBetween), pieces, destinationSize: 64);
            return events.Last() == "binary:" + Convert.ToHexString(payload);
        }, iter: 2_000);
    }

    [Fact]
    public void RandomBytesNeverThrowAndConsumeOnlyWhatTheyAreGiven()
    {
        Gen.Select(Gen.Byte.Array[0, 200], Gen.Int[1, 30].Array[1, 5], Gen.Bool).Sample((bytes, pieces, isServer) =>
        {
            _ = Decode(bytes, pieces, destinationSize: 17, isServer: isServer); // asserts NeedMoreInput consumed the whole piece
            var decoder = new WebSocketDecoder(isServer);
            DecodeStatus status = decoder.Decode(bytes, new byte[8], acceptData: false, out int consumed, out int written);
            return consumed <= bytes.Length && written == 0 && status != DecodeStatus.Data;
        }, iter: 5_000);
    }

    /// <summary>A message in <paramref name="cuts"/> + 1 fragments, with a ping after the first when asked.</summary>
    private static byte[] MessageFrames(bool text, byte[] payload, int cuts, bool pingBetween)
    {
        var frames = new List<byte[]>();
        int pieces = cuts + 1;
        int size = (payload.Length + pieces - 1) / Math.Max(1, pieces);
        for (int i = 0; i < pieces; i++)
        {
            int start = Math.Min(payload.Length, i * size);
            int end = i == pieces - 1 ? payload.Length : Math.Min(payload.Length, start + size);
            frames.Add(Frame(i == 0 ? (text ? 0x1 : 0x2) : 0x0, payload.AsSpan(start, end - start), fin: i == pieces - 1));
            if (i == 0 && pingBetween && pieces > 1)
            {
                frames.Add(Frame(0x9, "between"u8));
            }
        }
        return Concat([.. frames]);
    }
}
