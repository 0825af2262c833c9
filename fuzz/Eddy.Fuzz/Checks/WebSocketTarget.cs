using System.Text;
using Eddy.WebSockets.Internal;

namespace Eddy.Fuzz;

/// <summary>
/// The <c>websocket</c> target: RFC 6455 frames through <see cref="WebSocketDecoder"/>, once whole into a large
/// buffer and once in pieces into a small one; both must tell the same story. The first byte chooses how: bit 0 the
/// role (set: a server, which requires masked frames; clear: a client, which requires unmasked ones), bit 1 small
/// limits (messages up to 300 bytes, frames up to 200: the 1009 paths) instead of none, bits 2-4 a count n of piece
/// sizes that follow (1-64 each; n = 0: one byte at a time), bits 5-7 the receive buffer's size in pieces mode
/// (1, 2, 3, 7, 16, 125, 126 or 4096 bytes). The frames follow.
/// <para>
/// The story is what a reader of the connection sees: each whole data message (type, length, bytes), each control
/// frame (ping and pong payloads, the close code and reason), the error code that ends it all if any, and whether a
/// message is left unfinished. Data of a message that never ends is left out, because how much of it arrives before an
/// error legitimately depends on the reads. A finding is any other difference, an exception, a count outside its span,
/// or a call that makes no progress.
/// </para>
/// </summary>
internal static class WebSocketTarget
{
    private static readonly int[] s_bufferSizes = [1, 2, 3, 7, 16, 125, 126, 4096];

    public static string Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return "";
        }
        byte control = input[0];
        bool isServer = (control & 1) != 0;
        bool small = (control & 2) != 0;
        int count = Math.Min((control >> 2) & 7, input.Length - 1);
        var sizes = new int[count];
        for (int i = 0; i < count; i++)
        {
            sizes[i] = (input[1 + i] & 63) + 1;
        }
        ReadOnlySpan<byte> frames = input.AsSpan(1 + count);
        PieceSchedule schedule = count == 0 ? PieceSchedule.OneByte : new PieceSchedule(sizes);

        string whole = Decode(frames, PieceSchedule.Whole, 4096, isServer, small);
        string pieces = Decode(frames, schedule, s_bufferSizes[control >> 5], isServer, small);
        if (whole != pieces)
        {
            throw new FuzzCheckException($"whole and in pieces ({schedule}, buffer {s_bufferSizes[control >> 5]}) differ:\n--- whole\n{whole}\n--- in pieces\n{pieces}");
        }
        return whole;
    }

    private static string Decode(ReadOnlySpan<byte> frames, PieceSchedule schedule, int bufferSize, bool isServer, bool small)
    {
        var decoder = small ? new WebSocketDecoder(isServer, maxMessageSize: 300, maxFrameSize: 200) : new WebSocketDecoder(isServer);
        var story = new StringBuilder();
        var message = new List<byte>();
        var buffer = new byte[bufferSize];
        int offset = 0;
        for (int piece = 0; offset < frames.Length; piece++)
        {
            ReadOnlySpan<byte> read = frames.Slice(offset, Math.Min(schedule.Size(piece), frames.Length - offset));
            offset += read.Length;
            int taken = 0;
            // Each call consumes input, writes data or reports an event; a bound on the calls catches a decoder that
            // would spin (a frame of this read can report at most a few events per byte plus its end).
            int calls = 0;
            while (true)
            {
                if (++calls > 4 * read.Length + 8)
                {
                    throw new FuzzCheckException($"no progress: {calls} calls on a read of {read.Length} bytes");
                }
                DecodeStatus status = decoder.Decode(read[taken..], buffer, acceptData: true, out int consumed, out int written);
                if ((uint)consumed > (uint)(read.Length - taken) || (uint)written > (uint)buffer.Length)
                {
                    throw new FuzzCheckException($"{status}: consumed {consumed} of {read.Length - taken}, wrote {written} into {buffer.Length}");
                }
                taken += consumed;
                switch (status)
                {
                    case DecodeStatus.NeedMoreInput:
                        if (taken != read.Length)
                        {
                            throw new FuzzCheckException($"asked for more input with {read.Length - taken} bytes left");
                        }
                        break;
                    case DecodeStatus.NeedDestination:
                        throw new FuzzCheckException($"asked for a buffer while given {buffer.Length} bytes");
                    case DecodeStatus.Data:
                        message.AddRange(buffer.AsSpan(0, written));
                        if (decoder.IsEndOfMessage)
                        {
                            story.Append($"{decoder.MessageType} {message.Count} {Convert.ToHexString(message.ToArray(), 0, Math.Min(message.Count, 64))}\n");
                            message.Clear();
                        }
                        else if (written == 0 && consumed == 0)
                        {
                            throw new FuzzCheckException("reported data without writing, consuming or ending the message");
                        }
                        continue;
                    case DecodeStatus.Ping or DecodeStatus.Pong:
                        story.Append($"{status} {Convert.ToHexString(decoder.ControlPayload)}\n");
                        continue;
                    case DecodeStatus.Close:
                        story.Append($"Close {(int)decoder.CloseStatus} {decoder.CloseReason}\n");
                        continue;
                    case DecodeStatus.Error:
                        if (decoder.ErrorStatus == 0)
                        {
                            throw new FuzzCheckException("an error without a close code");
                        }
                        return story.Append($"Error {(int)decoder.ErrorStatus}\n").ToString();
                }
                break;
            }
        }
        return story.Append(decoder.IsInMessage ? "unfinished message\n" : "").ToString();
    }
}
