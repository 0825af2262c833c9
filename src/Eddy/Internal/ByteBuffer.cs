using System.Buffers;
using System.Runtime.CompilerServices;

namespace Eddy.Internal;

/// <summary>
/// Bytes received but not yet consumed: appended at the end, consumed from the front. The array comes
/// from <see cref="LoopBufferPool"/> (the owning loop thread's pool); consuming only moves the start, and when an append does not fit at the
/// end the bytes left are moved to the front if no more of them remain than were consumed before them,
/// else into an array twice as large. Each byte consumed thus pays for at most one byte moved, so the
/// copying stays linear in the bytes appended (however the appends and consumes interleave), and a buffer
/// that is read about as fast as it fills never grows. <see cref="Release"/> gives the array back once it
/// is empty: an idle owner holds none. Not thread-safe.
/// <para>
/// One type for every carry-over buffer: the HTTP connection's input, <c>AsyncStreamReader</c>'s buffer, and
/// the split response heads of <c>eddy load http</c>'s connections. (The HTTP response buffer is another
/// thing: an <see cref="IBufferWriter{T}"/> written and flushed whole, never consumed from the front.)
/// </para>
/// </summary>
internal sealed class ByteBuffer
{
    private const int MinimumCapacity = 1024;

    private byte[] _array = [];
    private int _start;
    private int _end;

    /// <summary>Bytes held.</summary>
    public int Length => _end - _start;

    public bool IsEmpty => _end == _start;

    /// <summary>The length of the array held (0 when none): what the buffer costs.</summary>
    public int Capacity => _array.Length;

    /// <summary>The bytes held; valid until the next <see cref="Append"/>, <see cref="Consume"/> or <see cref="Release"/>.</summary>
    public ReadOnlySpan<byte> Span => _array.AsSpan(_start, _end - _start);

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_array.Length - _end < data.Length)
        {
            MakeRoom(data.Length);
        }
        data.CopyTo(_array.AsSpan(_end));
        _end += data.Length;
    }

    /// <summary>Drops the first <paramref name="count"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Consume(int count)
    {
        if ((uint)count > (uint)(_end - _start))
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Only {_end - _start} bytes are held.");
        }
        _start += count;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    /// <summary>Drops everything and returns the array to the pool.</summary>
    public void Release()
    {
        if (_array.Length > 0)
        {
            LoopBufferPool.Return(_array);
        }
        _array = [];
        _start = _end = 0;
    }

    /// <summary>Moves the held bytes to the front, or into a larger array, so that <paramref name="count"/> more fit.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void MakeRoom(int count)
    {
        int length = _end - _start;
        // Compact in place only when the bytes moved are no more than the consumed bytes reclaimed.
        if (length + count <= _array.Length && length <= _start)
        {
            _array.AsSpan(_start, length).CopyTo(_array);
        }
        else
        {
            byte[] bigger = LoopBufferPool.Rent(Math.Max(length + count, Math.Max(_array.Length * 2, MinimumCapacity)));
            _array.AsSpan(_start, length).CopyTo(bigger);
            if (_array.Length > 0)
            {
                LoopBufferPool.Return(_array);
            }
            _array = bigger;
        }
        _start = 0;
        _end = length;
    }
}
