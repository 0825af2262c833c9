using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Eddy.Http.Parsing.Internal;

/// <summary>
/// Where a request head's lines end, found in one vectorized pass: a bit per byte, set at each LF, 64 bytes
/// to a block (simdjson's "structural index"). The same pass finds the head's end, the first CRLFCRLF, from
/// the blocks' LF and CR bits, so a small head costs a few vector compares instead of a search for CRLFCRLF
/// and then one <c>IndexOf('\n')</c> call per line. Only where the bits are: LFs past the indexed blocks are
/// found with <c>IndexOf</c>, so the answers never depend on how much was indexed.
/// </summary>
internal ref struct LineFeedIndex
{
    /// <summary>Blocks indexed at most (1 KiB of head): wrk's and curl's heads fit in one, a browser's in a dozen.</summary>
    public const int Capacity = 16;

    private const int BlockSize = 64;

    private readonly ReadOnlySpan<byte> _input;
    private readonly Span<ulong> _lineFeeds;
    private int _blocks;

    /// <param name="input">The bytes to index, from the head's first byte.</param>
    /// <param name="storage"><see cref="Capacity"/> words for the bits (stack memory of the caller).</param>
    public LineFeedIndex(ReadOnlySpan<byte> input, Span<ulong> storage)
    {
        _input = input;
        _lineFeeds = storage;
    }

    /// <summary>
    /// Indexes blocks until the first CRLFCRLF and returns the head's length through it; -1 when the indexed
    /// bytes (all of the input, or the first <see cref="Capacity"/> blocks) hold none, with
    /// <see cref="IndexedLength"/> telling which.
    /// </summary>
    public int FindHeadEnd()
    {
        ulong previousLf = 0, previousCr = 0;
        ref byte start = ref MemoryMarshal.GetReference(_input);
        for (int block = 0; block < Capacity; block++)
        {
            int offset = block * BlockSize;
            int remaining = _input.Length - offset;
            if (remaining <= 0)
            {
                break;
            }
            ulong lineFeeds, carriageReturns;
            if (remaining >= BlockSize)
            {
                (lineFeeds, carriageReturns) = Classify(ref Unsafe.Add(ref start, offset));
            }
            else if (remaining >= Vector128<byte>.Count)
            {
                (lineFeeds, carriageReturns) = ClassifyPartial(ref Unsafe.Add(ref start, offset), remaining);
            }
            else
            {
                (lineFeeds, carriageReturns) = ClassifyShort(_input[offset..]);
            }
            _lineFeeds[block] = lineFeeds;
            _blocks = block + 1;

            // An LF whose byte before is CR, two before LF and three before CR ends the head; the shifts take
            // the bits that precede the block from the previous one.
            ulong ends = lineFeeds
                & ((carriageReturns << 1) | (previousCr >> 63))
                & ((lineFeeds << 2) | (previousLf >> 62))
                & ((carriageReturns << 3) | (previousCr >> 61));
            if (ends != 0)
            {
                return offset + BitOperations.TrailingZeroCount(ends) + 1;
            }
            previousLf = lineFeeds;
            previousCr = carriageReturns;
        }
        return -1;
    }

    /// <summary>How many bytes from the start were indexed (and hold no CRLFCRLF, when <see cref="FindHeadEnd"/> found none).</summary>
    public readonly int IndexedLength => Math.Min(_blocks * BlockSize, _input.Length);

    /// <summary>The first LF at or after <paramref name="from"/>, or -1 if the input has none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int Next(int from)
    {
        int block = (int)((uint)from / BlockSize); // from >= 0: a shift, not a signed division
        if (block < _blocks)
        {
            ulong bits = _lineFeeds[block] & (ulong.MaxValue << from); // the shift count is taken mod 64
            while (bits == 0)
            {
                if (++block == _blocks)
                {
                    return SearchPastIndex(block * BlockSize);
                }
                bits = _lineFeeds[block];
            }
            return block * BlockSize + BitOperations.TrailingZeroCount(bits);
        }
        return SearchPastIndex(from);
    }

    private readonly int SearchPastIndex(int from)
    {
        if (from >= _input.Length)
        {
            return -1;
        }
        int found = _input[from..].IndexOf((byte)'\n');
        return found < 0 ? -1 : from + found;
    }

    /// <summary>Bit i of each mask: byte i of the 64 is LF, is CR.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (ulong LineFeeds, ulong CarriageReturns) Classify(ref byte bytes)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<byte> low = Vector256.LoadUnsafe(ref bytes);
            Vector256<byte> high = Vector256.LoadUnsafe(ref bytes, 32);
            Vector256<byte> lf = Vector256.Create((byte)'\n');
            Vector256<byte> cr = Vector256.Create((byte)'\r');
            return (
                Vector256.Equals(low, lf).ExtractMostSignificantBits() | ((ulong)Vector256.Equals(high, lf).ExtractMostSignificantBits() << 32),
                Vector256.Equals(low, cr).ExtractMostSignificantBits() | ((ulong)Vector256.Equals(high, cr).ExtractMostSignificantBits() << 32));
        }
        ulong lineFeeds = 0, carriageReturns = 0;
        for (int i = 0; i < BlockSize; i += Vector128<byte>.Count)
        {
            (ulong l, ulong c) = Classify16(ref bytes, i);
            lineFeeds |= l;
            carriageReturns |= c;
        }
        return (lineFeeds, carriageReturns);
    }

    /// <summary>As <see cref="Classify"/> for the first <paramref name="length"/> (16 to 63) bytes: the last vector is loaded ending at the last byte, overlapping the one before.</summary>
    private static (ulong LineFeeds, ulong CarriageReturns) ClassifyPartial(ref byte bytes, int length)
    {
        ulong lineFeeds = 0, carriageReturns = 0;
        int i = 0;
        for (; i + Vector128<byte>.Count <= length; i += Vector128<byte>.Count)
        {
            (ulong l, ulong c) = Classify16(ref bytes, i);
            lineFeeds |= l;
            carriageReturns |= c;
        }
        if (i < length)
        {
            (ulong l, ulong c) = Classify16(ref bytes, length - Vector128<byte>.Count);
            lineFeeds |= l;
            carriageReturns |= c;
        }
        return (lineFeeds, carriageReturns);
    }

    /// <summary>As <see cref="Classify"/> for fewer bytes than one vector: a zero-padded copy is indexed rather than read past the input.</summary>
    [SkipLocalsInit] // cleared before use
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (ulong LineFeeds, ulong CarriageReturns) ClassifyShort(ReadOnlySpan<byte> bytes)
    {
        Span<byte> copy = stackalloc byte[BlockSize];
        copy.Clear();
        bytes.CopyTo(copy);
        return Classify(ref MemoryMarshal.GetReference(copy));
    }

    /// <summary>The LF and CR bits of the 16 bytes at <paramref name="offset"/>, in place in a block's masks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (ulong LineFeeds, ulong CarriageReturns) Classify16(ref byte bytes, int offset)
    {
        Vector128<byte> v = Vector128.LoadUnsafe(ref bytes, (nuint)offset);
        return (
            (ulong)Vector128.Equals(v, Vector128.Create((byte)'\n')).ExtractMostSignificantBits() << offset,
            (ulong)Vector128.Equals(v, Vector128.Create((byte)'\r')).ExtractMostSignificantBits() << offset);
    }
}
