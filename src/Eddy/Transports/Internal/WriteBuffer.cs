using System.Buffers;

namespace Eddy.Transports.Internal;

/// <summary>
/// Bytes a transport accepted but could not send yet: a FIFO of chunks rented from
/// <see cref="ArrayPool{T}"/>, appended by copy and consumed from the front. An idle connection
/// holds no chunk at all. Loop thread only.
/// </summary>
internal sealed class WriteBuffer
{
    private const int ChunkSize = 16 * 1024;

    private Chunk[] _chunks = new Chunk[4];
    private int _head;
    private int _count;

    private struct Chunk
    {
        public byte[] Array;
        public int Start;
        public int End;
    }

    /// <summary>Bytes buffered.</summary>
    public int Length { get; private set; }

    public bool IsEmpty => Length == 0;

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }
        Length += data.Length;
        if (_count > 0)
        {
            ref Chunk tail = ref _chunks[(_head + _count - 1) & (_chunks.Length - 1)];
            int room = tail.Array.Length - tail.End;
            if (room > 0)
            {
                int n = Math.Min(room, data.Length);
                data[..n].CopyTo(tail.Array.AsSpan(tail.End));
                tail.End += n;
                data = data[n..];
            }
        }
        while (!data.IsEmpty)
        {
            byte[] array = ArrayPool<byte>.Shared.Rent(Math.Max(ChunkSize, Math.Min(data.Length, 1 << 20)));
            int n = Math.Min(array.Length, data.Length);
            data[..n].CopyTo(array);
            AddChunk(new Chunk { Array = array, Start = 0, End = n });
            data = data[n..];
        }
    }

    /// <summary>Fills <paramref name="segments"/> with the buffered bytes, front first, for one writev(2); returns how many it filled.</summary>
    public int Gather(Span<ReadOnlyMemory<byte>> segments)
    {
        int n = Math.Min(segments.Length, _count);
        for (int i = 0; i < n; i++)
        {
            Chunk chunk = _chunks[(_head + i) & (_chunks.Length - 1)];
            segments[i] = new ReadOnlyMemory<byte>(chunk.Array, chunk.Start, chunk.End - chunk.Start);
        }
        return n;
    }

    /// <summary>Drops the first <paramref name="count"/> bytes (they were sent), returning emptied chunks to the pool.</summary>
    public void Consume(long count)
    {
        Length -= (int)count;
        while (count > 0)
        {
            ref Chunk head = ref _chunks[_head];
            int available = head.End - head.Start;
            if (count < available)
            {
                head.Start += (int)count;
                return;
            }
            count -= available;
            RemoveHead();
        }
    }

    /// <summary>Drops everything (the connection is gone).</summary>
    public void Clear()
    {
        while (_count > 0)
        {
            RemoveHead();
        }
        Length = 0;
    }

    private void AddChunk(Chunk chunk)
    {
        if (_count == _chunks.Length)
        {
            var bigger = new Chunk[_chunks.Length * 2];
            for (int i = 0; i < _count; i++)
            {
                bigger[i] = _chunks[(_head + i) & (_chunks.Length - 1)];
            }
            _chunks = bigger;
            _head = 0;
        }
        _chunks[(_head + _count) & (_chunks.Length - 1)] = chunk;
        _count++;
    }

    private void RemoveHead()
    {
        ArrayPool<byte>.Shared.Return(_chunks[_head].Array);
        _chunks[_head] = default;
        _head = (_head + 1) & (_chunks.Length - 1);
        _count--;
    }
}
