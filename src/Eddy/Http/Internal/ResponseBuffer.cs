using System.Buffers;
using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Text;

namespace Eddy.Http.Internal;

/// <summary>
/// Where a connection assembles its responses: the responses to one batch of pipelined requests go
/// into it back to back and leave in one <c>Transport.Write</c> (one send). The array comes from
/// <see cref="ArrayPool{T}"/> and goes back after every flush, so an idle connection holds none (the
/// pool's per-thread cache makes the next rent cheap).
/// </summary>
internal sealed class ResponseBuffer : IBufferWriter<byte>
{
    private byte[] _array = [];
    private int _length;

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _length);

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(_length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_array.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>Writes ASCII text (field names and values Eddy or the app set) as bytes.</summary>
    public void WriteAscii(string text)
    {
        Ensure(text.Length);
        Span<byte> span = _array.AsSpan(_length);
        if (Ascii.FromUtf16(text, span, out int n) != OperationStatus.Done)
        {
            n = Encoding.ASCII.GetBytes(text, span); // a non-ASCII char becomes '?', as it always did
        }
        _length += n;
    }

    /// <summary>Writes UTF-8 text (a body).</summary>
    public void WriteUtf8(ReadOnlySpan<char> text)
    {
        Ensure(Encoding.UTF8.GetMaxByteCount(text.Length));
        _length += Encoding.UTF8.GetBytes(text, _array.AsSpan(_length));
    }

    public void WriteNumber(long value)
    {
        Ensure(20);
        _length += FormatDecimal(value, _array.AsSpan(_length));
    }

    /// <summary><c>Content-Length: N\r\n\r\n</c>: the last field of a head and the blank line after it.</summary>
    public void WriteContentLengthAndEndOfHead(long value)
    {
        Ensure(40);
        Span<byte> span = _array.AsSpan(_length);
        "Content-Length: "u8.CopyTo(span);
        int digits = FormatDecimal(value, span[16..]);
        "\r\n\r\n"u8.CopyTo(span[(16 + digits)..]);
        _length += 16 + digits + 4;
    }

    /// <summary>Writes <paramref name="value"/> in decimal (room for 20 bytes) and returns how many bytes that took.</summary>
    private static int FormatDecimal(long value, Span<byte> destination)
    {
        if ((ulong)value >= 10_000)
        {
            Utf8Formatter.TryFormat(value, destination, out int written);
            return written;
        }
        // Most lengths: up to four digits, written without the general formatter.
        int digits = value < 10 ? 1 : value < 100 ? 2 : value < 1000 ? 3 : 4;
        Span<byte> number = destination[..digits];
        for (int i = digits - 1; i >= 0; i--)
        {
            number[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
        return digits;
    }

    /// <summary>Drops what was written after the first <paramref name="length"/> bytes (a response that cannot be finished).</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)length, (uint)_length, nameof(length));
        _length = length;
    }

    /// <summary>Drops the contents and returns the array to the pool.</summary>
    public void Clear()
    {
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }
        _array = [];
        _length = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Ensure(int sizeHint)
    {
        if (_array.Length - _length < Math.Max(sizeHint, 1))
        {
            Grow(sizeHint); // out of line: the check is the hot part
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int sizeHint)
    {
        byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_length + Math.Max(sizeHint, 256), Math.Max(_array.Length * 2, 4096)));
        _array.AsSpan(0, _length).CopyTo(bigger);
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }
        _array = bigger;
    }
}
