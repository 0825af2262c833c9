using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Eddy.WebSockets.Internal;

/// <summary>
/// The masking of RFC 6455 §5.3: byte <c>i</c> of a payload is XORed with byte <c>i mod 4</c> of the frame's
/// 32-bit key. The key is kept as a <see cref="uint"/> whose bytes, in memory order, are the key's bytes on the
/// wire, so one 4-byte-periodic vector of it masks 16, 32 or 64 bytes per instruction.
/// </summary>
internal static class WebSocketMask
{
    /// <summary>The key as read from the frame header's four key bytes.</summary>
    public static uint ReadKey(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadUInt32LittleEndian(key);

    /// <summary>
    /// Writes <paramref name="source"/> XOR the key into <paramref name="destination"/> (at least as long; the
    /// two may be the same memory), starting at key byte <paramref name="offset"/>. Returns the key offset for
    /// the byte after the last: a payload masked in pieces gives the same bytes as one masked whole.
    /// </summary>
    public static int Apply(ReadOnlySpan<byte> source, Span<byte> destination, uint key, int offset)
    {
        int length = source.Length;
        if ((uint)destination.Length < (uint)length)
        {
            throw new ArgumentException("The destination is shorter than the source.", nameof(destination));
        }
        // Rotate the key so that its first byte in memory is the one due at source[0].
        uint rotated = BitOperations.RotateRight(key, 8 * (offset & 3));
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        nuint i = 0;
        nuint n = (nuint)length;
        // Vectorized: 64, 32 or 16 bytes per XOR (the widths are multiples of 4, so the key stays in phase).
        if (Vector512.IsHardwareAccelerated && n >= (nuint)Vector512<byte>.Count)
        {
            Vector512<byte> mask = Vector512.Create(rotated).AsByte();
            for (; i + (nuint)Vector512<byte>.Count <= n; i += (nuint)Vector512<byte>.Count)
            {
                (Vector512.LoadUnsafe(ref src, i) ^ mask).StoreUnsafe(ref dst, i);
            }
        }
        if (Vector256.IsHardwareAccelerated && n - i >= (nuint)Vector256<byte>.Count)
        {
            Vector256<byte> mask = Vector256.Create(rotated).AsByte();
            for (; i + (nuint)Vector256<byte>.Count <= n; i += (nuint)Vector256<byte>.Count)
            {
                (Vector256.LoadUnsafe(ref src, i) ^ mask).StoreUnsafe(ref dst, i);
            }
        }
        if (Vector128.IsHardwareAccelerated && n - i >= (nuint)Vector128<byte>.Count)
        {
            Vector128<byte> mask = Vector128.Create(rotated).AsByte();
            for (; i + (nuint)Vector128<byte>.Count <= n; i += (nuint)Vector128<byte>.Count)
            {
                (Vector128.LoadUnsafe(ref src, i) ^ mask).StoreUnsafe(ref dst, i);
            }
        }
        ulong wide = rotated | ((ulong)rotated << 32);
        for (; i + 8 <= n; i += 8)
        {
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, i), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, i)) ^ wide);
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref dst, i) = (byte)(Unsafe.Add(ref src, i) ^ (byte)(rotated >> (8 * (int)(i & 3))));
        }
        return (offset + length) & 3;
    }
}
