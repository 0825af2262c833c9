using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Eddy.WebSockets.Internal;

/// <summary>
/// Validates a text message as UTF-8 while it arrives in pieces (RFC 6455 §8.1: invalid data fails the
/// connection with 1007), without holding the message: only the bytes of a sequence cut by a piece's end
/// (at most 3) are kept. The work is the BCL's: <see cref="Utf8.IsValid(ReadOnlySpan{byte})"/> (vectorized) over
/// each piece up to its cut sequence, and <see cref="Rune.DecodeFromUtf8"/> for the cut sequence, which says
/// whether its bytes so far can still begin a valid one — so a message fails at its first byte that cannot
/// (Autobahn's "fail fast" cases), wherever the pieces were cut.
/// </summary>
internal struct Utf8Validator
{
    private uint _pending;      // the bytes of the cut sequence, first in the low byte
    private int _pendingCount;  // 0..3

    /// <summary>True when no sequence is cut: the bytes so far end on a character boundary.</summary>
    public readonly bool IsComplete => _pendingCount == 0;

    public void Reset()
    {
        _pending = 0;
        _pendingCount = 0;
    }

    /// <summary>Validates the next piece; false as soon as the bytes so far cannot be the start of valid UTF-8.</summary>
    public bool TryAppend(ReadOnlySpan<byte> data)
    {
        int start = 0;
        if (_pendingCount > 0)
        {
            Span<byte> sequence = stackalloc byte[4];
            for (int i = 0; i < _pendingCount; i++)
            {
                sequence[i] = (byte)(_pending >> (8 * i));
            }
            int length = _pendingCount;
            while (true)
            {
                if (start == data.Length)
                {
                    Save(sequence[..length]);
                    return true;
                }
                sequence[length++] = data[start++];
                OperationStatus status = Rune.DecodeFromUtf8(sequence[..length], out _, out int used);
                if (status == OperationStatus.Done && used == length)
                {
                    _pendingCount = 0;
                    _pending = 0;
                    break;
                }
                if (status != OperationStatus.NeedMoreData || length == 4)
                {
                    return false;
                }
            }
        }
        ReadOnlySpan<byte> rest = data[start..];
        int cut = CutSequenceLength(rest);
        if (!Utf8.IsValid(rest[..^cut]))
        {
            return false;
        }
        if (cut > 0)
        {
            ReadOnlySpan<byte> tail = rest[^cut..];
            if (Rune.DecodeFromUtf8(tail, out _, out _) != OperationStatus.NeedMoreData)
            {
                return false;
            }
            Save(tail);
        }
        return true;
    }

    private void Save(ReadOnlySpan<byte> bytes)
    {
        uint packed = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            packed |= (uint)bytes[i] << (8 * i);
        }
        _pending = packed;
        _pendingCount = bytes.Length;
    }

    /// <summary>
    /// How many bytes at the end of <paramref name="data"/> begin a multi-byte sequence that the data does not
    /// finish (0–3). Anything else — a finished sequence, or bytes that are invalid however it goes on — is
    /// left to <see cref="Utf8.IsValid(ReadOnlySpan{byte})"/>.
    /// </summary>
    private static int CutSequenceLength(ReadOnlySpan<byte> data)
    {
        for (int back = 1; back <= 3 && back <= data.Length; back++)
        {
            byte b = data[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // a continuation byte: look further back for the lead
            }
            if (b < 0xC0)
            {
                return 0; // ASCII: nothing is cut
            }
            int needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
            return needed > back ? back : 0;
        }
        return 0;
    }
}
