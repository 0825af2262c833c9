using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;

namespace Eddy.WebSockets.Internal;

/// <summary>The sending half of RFC 6455's framing (§5.2), sans I/O: frame headers and close payloads into a caller's span.</summary>
internal static class WebSocketFrameWriter
{
    /// <summary>The longest header: 2 bytes, an 8-byte length and a 4-byte masking key.</summary>
    public const int MaxHeaderLength = 14;

    /// <summary>The longest close reason: a control payload is at most 125 bytes, 2 of them the code (§5.5).</summary>
    public const int MaxCloseReasonLength = 123;

    /// <summary>
    /// Writes a frame header for a payload of <paramref name="payloadLength"/> bytes, with the minimal length
    /// encoding; with a <paramref name="maskKey"/> (a client's frames) the mask bit and key too. Returns its length.
    /// </summary>
    public static int WriteHeader(Span<byte> destination, WebSocketOpcode opcode, bool fin, long payloadLength, uint? maskKey = null, bool rsv1 = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        destination[0] = (byte)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (int)opcode);
        byte maskBit = maskKey is null ? (byte)0 : (byte)0x80;
        int at;
        if (payloadLength <= 125)
        {
            destination[1] = (byte)(maskBit | (byte)payloadLength);
            at = 2;
        }
        else if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            at = 4;
        }
        else
        {
            destination[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
            at = 10;
        }
        if (maskKey is uint key)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[at..], key); // memory order = wire order, as ReadKey
            at += 4;
        }
        return at;
    }

    /// <summary>The length of a header for this payload length, with or without a masking key.</summary>
    public static int HeaderLength(long payloadLength, bool masked) =>
        (payloadLength <= 125 ? 2 : payloadLength <= ushort.MaxValue ? 4 : 10) + (masked ? 4 : 0);

    /// <summary>
    /// Writes a close payload: nothing for <see cref="WebSocketCloseStatus.Empty"/>, else the code and the reason
    /// as UTF-8. Returns its length. The reason must fit (<see cref="MaxCloseReasonLength"/> bytes).
    /// </summary>
    public static int WriteClosePayload(Span<byte> destination, WebSocketCloseStatus status, string? reason)
    {
        if (status == WebSocketCloseStatus.Empty)
        {
            return 0;
        }
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)status);
        return 2 + (string.IsNullOrEmpty(reason) ? 0 : Encoding.UTF8.GetBytes(reason, destination[2..]));
    }
}
