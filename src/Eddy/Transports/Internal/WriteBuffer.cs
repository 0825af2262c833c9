using Eddy.Internal;
using Microsoft.Win32.SafeHandles;

namespace Eddy.Transports.Internal;

/// <summary>
/// Bytes a transport accepted but could not send yet: a FIFO of chunks rented from the loop thread's
/// <see cref="LoopBufferPool"/>, appended by copy and consumed from the front, and file regions queued for
/// sendfile(2) in their place in the order (as Netty's <c>FileRegion</c> in its outbound buffer). A file region
/// holds a reference on its handle (<see cref="System.Runtime.InteropServices.SafeHandle.DangerousAddRef"/>) until it is sent or dropped, so
/// the caller may dispose its handle at once. An idle connection holds no chunk at all. Loop thread only.
/// </summary>
internal sealed class WriteBuffer
{
    // The first chunk fits a typical response (on io_uring every response waits here until its send completes, and a
    // loop with 1,024 connections may hold 1,024 of them at once); chunks behind it are larger, for bulk.
    private const int FirstChunkSize = 4 * 1024;
    private const int ChunkSize = 16 * 1024;

    private Chunk[] _chunks = new Chunk[4];
    private int _head;
    private int _count;

    private struct Chunk
    {
        public byte[]? Array;      // bytes [Start, End), or null for a file region
        public int Start;
        public int End;
        public SafeFileHandle? File;
        public long FileOffset;
        public long FileRemaining;
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
            int room = tail.Array is null ? 0 : tail.Array.Length - tail.End;
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
            byte[] array = LoopBufferPool.Rent(Math.Max(_count == 0 ? FirstChunkSize : ChunkSize, Math.Min(data.Length, 1 << 20)));
            int n = Math.Min(array.Length, data.Length);
            data[..n].CopyTo(array);
            AddChunk(new Chunk { Array = array, Start = 0, End = n });
            data = data[n..];
        }
    }

    /// <summary>
    /// Queues <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/> after what is
    /// buffered; counted in <see cref="Length"/> like bytes. Takes a reference on the handle until the region is
    /// sent or dropped.
    /// </summary>
    public void AppendFile(SafeFileHandle file, long offset, int count)
    {
        bool added = false;
        file.DangerousAddRef(ref added);
        Length += count;
        AddChunk(new Chunk { File = file, FileOffset = offset, FileRemaining = count });
    }

    /// <summary>True when the front of the buffer is a file region (send it with sendfile, not writev).</summary>
    public bool HeadIsFile => _count > 0 && _chunks[_head].File is not null;

    /// <summary>The file region at the front: its handle, the offset of its next byte and the bytes left.</summary>
    public (SafeFileHandle File, long Offset, long Remaining) HeadFile
    {
        get
        {
            ref Chunk head = ref _chunks[_head];
            return (head.File!, head.FileOffset, head.FileRemaining);
        }
    }

    /// <summary>The bytes at the head (not a file region): the array they are in, where they start, how many.</summary>
    public (byte[] Array, int Start, int Length) HeadBytes
    {
        get
        {
            ref Chunk head = ref _chunks[_head];
            return (head.Array!, head.Start, head.End - head.Start);
        }
    }

    /// <summary>
    /// Fills <paramref name="segments"/> with the buffered bytes, front first, for one writev(2), stopping at a file
    /// region; returns how many it filled (and in <c>bytes</c>, the bytes they hold).
    /// </summary>
    public int Gather(Span<ReadOnlyMemory<byte>> segments, out long bytes)
    {
        int limit = Math.Min(segments.Length, _count);
        int n = 0;
        bytes = 0;
        for (; n < limit; n++)
        {
            Chunk chunk = _chunks[(_head + n) & (_chunks.Length - 1)];
            if (chunk.Array is null)
            {
                break;
            }
            segments[n] = new ReadOnlyMemory<byte>(chunk.Array, chunk.Start, chunk.End - chunk.Start);
            bytes += chunk.End - chunk.Start;
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
            if (head.File is not null)
            {
                if (count < head.FileRemaining)
                {
                    head.FileOffset += count;
                    head.FileRemaining -= count;
                    return;
                }
                count -= head.FileRemaining;
                RemoveHead();
                continue;
            }
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

    /// <summary>
    /// Drops everything (the connection is gone). <paramref name="retained"/>: an array a send in flight still reads;
    /// it is not returned to the pool (its owner returns it once the send completes).
    /// </summary>
    public void Clear(byte[]? retained = null)
    {
        while (_count > 0)
        {
            RemoveHead(retained);
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

    /// <summary>Gives a chunk's array back to the pool it was rented from (for one kept past <see cref="Clear"/>).</summary>
    public static void ReturnArray(byte[] array) => LoopBufferPool.Return(array);

    private void RemoveHead(byte[]? retained = null)
    {
        ref Chunk head = ref _chunks[_head];
        if (head.Array is not null)
        {
            if (head.Array != retained)
            {
                ReturnArray(head.Array);
            }
        }
        else
        {
            head.File!.DangerousRelease();
        }
        head = default;
        _head = (_head + 1) & (_chunks.Length - 1);
        _count--;
    }
}
