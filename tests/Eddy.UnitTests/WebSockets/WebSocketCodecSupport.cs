using System.Net.WebSockets;
using System.Text;
using Eddy.WebSockets.Internal;

namespace Eddy.UnitTests.WebSockets;

/// <summary>Frames as a client (or a server) puts them on the wire, and a decoder run that records what it reports.</summary>
internal static class WebSocketCodecSupport
{
    private static readonly byte[] s_key = [0x37, 0xFA, 0x21, 0x3D];

    /// <summary>
    /// One frame, masked (a client's) unless <paramref name="masked"/> is false. <paramref name="first"/> overrides
    /// the first byte whole (FIN, RSV and opcode) when given; <paramref name="length"/> overrides the declared length.
    /// </summary>
    public static byte[] Frame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, bool masked = true, int rsv = 0, long? declared = null, int lengthBytes = 0)
    {
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode) };
        long length = declared ?? payload.Length;
        byte maskBit = masked ? (byte)0x80 : (byte)0;
        int encoding = lengthBytes != 0 ? lengthBytes : length <= 125 ? 0 : length <= 0xFFFF ? 2 : 8;
        switch (encoding)
        {
            case 0:
                frame.Add((byte)(maskBit | length));
                break;
            case 2:
                frame.Add((byte)(maskBit | 126));
                frame.Add((byte)(length >> 8));
                frame.Add((byte)length);
                break;
            default:
                frame.Add((byte)(maskBit | 127));
                for (int i = 7; i >= 0; i--)
                {
                    frame.Add((byte)((ulong)length >> (8 * i)));
                }
                break;
        }
        if (masked)
        {
            frame.AddRange(s_key);
        }
        for (int i = 0; i < payload.Length; i++)
        {
            frame.Add(masked ? (byte)(payload[i] ^ s_key[i & 3]) : payload[i]);
        }
        return [.. frame];
    }

    public static byte[] Text(string text, bool fin = true) => Frame(0x1, Encoding.UTF8.GetBytes(text), fin);

    public static byte[] Close(int code, string reason = "") =>
        Frame(0x8, [(byte)(code >> 8), (byte)code, .. Encoding.UTF8.GetBytes(reason)]);

    public static byte[] Concat(params byte[][] frames) => frames.SelectMany(f => f).ToArray();

    /// <summary>
    /// Decodes <paramref name="input"/> as a server would, cut into pieces of the given sizes (cycled; the whole at
    /// once when none), into destinations of <paramref name="destinationSize"/> bytes. The events: <c>text:…</c>,
    /// <c>binary:hex</c> for whole messages, <c>ping:…</c>, <c>pong:…</c>, <c>close:code:reason</c>,
    /// <c>error:code</c>; and nothing after an error or a close. With <paramref name="inflate"/>, permessage-deflate
    /// was agreed (the peer starting afresh every message when <paramref name="fresh"/>).
    /// </summary>
    public static List<string> Decode(byte[] input, int[]? pieces = null, int destinationSize = 1 << 20, long maxMessage = long.MaxValue, long maxFrame = long.MaxValue,
        bool isServer = true, bool inflate = false, bool fresh = false)
    {
        var decoder = new WebSocketDecoder(isServer, maxMessage, maxFrame, inflate ? new PerMessageInflater(fresh) : null);
        var events = new List<string>();
        var message = new List<byte>();
        var destination = new byte[destinationSize];
        int offset = 0;
        int piece = 0;
        while (true)
        {
            int size = pieces is { Length: > 0 } ? pieces[piece++ % pieces.Length] : input.Length;
            ReadOnlySpan<byte> chunk = input.AsSpan(offset, Math.Min(size, input.Length - offset));
            offset += chunk.Length;
            int at = 0;
            while (true)
            {
                DecodeStatus status = decoder.Decode(chunk[at..], destination, acceptData: true, out int consumed, out int written);
                at += consumed;
                switch (status)
                {
                    case DecodeStatus.NeedMoreInput:
                        Assert.Equal(chunk.Length, at);
                        break;
                    case DecodeStatus.Data:
                        message.AddRange(destination.AsSpan(0, written).ToArray());
                        if (decoder.IsEndOfMessage)
                        {
                            events.Add(decoder.MessageType == WebSocketMessageType.Text
                                ? "text:" + Encoding.UTF8.GetString([.. message])
                                : "binary:" + Convert.ToHexString([.. message]));
                            message.Clear();
                        }
                        continue;
                    case DecodeStatus.Ping:
                        events.Add("ping:" + Encoding.Latin1.GetString(decoder.ControlPayload));
                        continue;
                    case DecodeStatus.Pong:
                        events.Add("pong:" + Encoding.Latin1.GetString(decoder.ControlPayload));
                        continue;
                    case DecodeStatus.Close:
                        events.Add($"close:{(int)decoder.CloseStatus}:{decoder.CloseReason}");
                        return events;
                    case DecodeStatus.Error:
                        events.Add($"error:{(int)decoder.ErrorStatus}");
                        return events;
                    default:
                        throw new InvalidOperationException($"unexpected {status}");
                }
                break;
            }
            if (offset == input.Length)
            {
                return events;
            }
        }
    }

    /// <summary>The same decode whole, in pieces of 1, 2, 3 and 7 bytes, and into a 1-byte and a 5-byte destination: all must agree.</summary>
    public static List<string> DecodeEverySplit(byte[] input, long maxMessage = long.MaxValue, long maxFrame = long.MaxValue, bool inflate = false, bool fresh = false)
    {
        List<string> whole = Decode(input, maxMessage: maxMessage, maxFrame: maxFrame, inflate: inflate, fresh: fresh);
        foreach (int[] pieces in new[] { [1], [2], [3], [7], new[] { 1, 5, 2 } })
        {
            Assert.Equal(whole, Decode(input, pieces, maxMessage: maxMessage, maxFrame: maxFrame, inflate: inflate, fresh: fresh));
        }
        Assert.Equal(whole, Decode(input, destinationSize: 1, maxMessage: maxMessage, maxFrame: maxFrame, inflate: inflate, fresh: fresh));
        Assert.Equal(whole, Decode(input, [3], destinationSize: 5, maxMessage: maxMessage, maxFrame: maxFrame, inflate: inflate, fresh: fresh));
        return whole;
    }
}
