using System.Runtime.InteropServices;

namespace Eddy.Interop;

/// <summary>
/// A ring of provided buffers (io_uring_register_buf_ring(3)): <see cref="Count"/> buffers of <see cref="BufferSize"/>
/// bytes the kernel picks from when a receive with <see cref="Libc.IOSQE_BUFFER_SELECT"/> has data, so a connection
/// holds no buffer while it waits — the memory is the loop's, shared by all its connections, as the shared read buffer
/// of the readiness path is. The completion names the buffer (<see cref="Libc.IORING_CQE_F_BUFFER"/>); once its bytes
/// are consumed, <see cref="Recycle"/> hands it back.
/// <para>
/// The ring is shared memory: entry i holds a buffer's address, length and id, and the kernel reads entries up to the
/// tail we publish (the 16-bit field that overlays the first entry's last two bytes, written with release ordering
/// after the entry). Loop thread only.
/// </para>
/// </summary>
internal sealed unsafe class IoUringBufferRing : IDisposable
{
    private const int PageSize = 4096;

    private readonly IoUring _ring;
    private readonly byte* _entries;   // struct io_uring_buf[Count]: addr (8), len (4), bid (2), resv (2)
    private readonly byte* _buffers;   // Count × BufferSize bytes
    private readonly ushort _mask;
    private ushort _tail;
    private bool _disposed;

    private IoUringBufferRing(IoUring ring, ushort groupId, int count, int bufferSize, byte* entries, byte* buffers)
    {
        _ring = ring;
        GroupId = groupId;
        Count = count;
        BufferSize = bufferSize;
        _entries = entries;
        _buffers = buffers;
        _mask = (ushort)(count - 1);
    }

    /// <summary>
    /// Allocates <paramref name="count"/> buffers (a power of two, at most 32,768) of <paramref name="bufferSize"/>
    /// bytes, registers them with <paramref name="ring"/> as group <paramref name="groupId"/> and provides them all.
    /// Throws <see cref="PosixException"/> when the kernel refuses (before 5.19: EINVAL).
    /// </summary>
    public static IoUringBufferRing Create(IoUring ring, ushort groupId, int count, int bufferSize)
    {
        if (count <= 0 || count > 32768 || (count & (count - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "A buffer ring holds a power of two of buffers, at most 32,768.");
        }
        nuint entriesSize = (nuint)(count * 16);
        byte* entries = (byte*)NativeMemory.AlignedAlloc(entriesSize, PageSize);
        NativeMemory.Clear(entries, entriesSize);
        byte* buffers = (byte*)NativeMemory.AlignedAlloc((nuint)count * (nuint)bufferSize, PageSize); // pages touched only when used
        Libc.IoUringBufReg reg = default;
        reg.RingAddr = (ulong)entries;
        reg.RingEntries = (uint)count;
        reg.Bgid = groupId;
        if (Libc.IoUringRegister(ring.Fd, Libc.IORING_REGISTER_PBUF_RING, &reg, 1) < 0)
        {
            Errno errno = Libc.LastErrno();
            NativeMemory.AlignedFree(entries);
            NativeMemory.AlignedFree(buffers);
            throw new PosixException(errno, "io_uring_register(IORING_REGISTER_PBUF_RING)", ring.Fd);
        }
        var bufferRing = new IoUringBufferRing(ring, groupId, count, bufferSize, entries, buffers);
        for (int i = 0; i < count; i++)
        {
            bufferRing.Provide((ushort)i);
        }
        bufferRing.Publish();
        return bufferRing;
    }

    /// <summary>The buffer group's id: what a receive names in its entry's <c>buf_group</c>.</summary>
    public ushort GroupId { get; }

    public int Count { get; }

    public int BufferSize { get; }

    /// <summary>The first <paramref name="length"/> bytes of buffer <paramref name="id"/>, as a completion reported them.</summary>
    public ReadOnlySpan<byte> Get(ushort id, int length) => new(_buffers + (nuint)id * (nuint)BufferSize, length);

    /// <summary>Gives buffer <paramref name="id"/> back to the kernel: its bytes are consumed.</summary>
    public void Recycle(ushort id)
    {
        Provide(id);
        Publish();
    }

    private void Provide(ushort id)
    {
        byte* entry = _entries + (_tail & _mask) * 16;
        *(ulong*)entry = (ulong)(_buffers + (nuint)id * (nuint)BufferSize);
        *(uint*)(entry + 8) = (uint)BufferSize;
        *(ushort*)(entry + 12) = id; // not the last two bytes: in entry 0 they are the ring's tail
        _tail++;
    }

    private void Publish() => Volatile.Write(ref *(ushort*)(_entries + 14), _tail); // release: after the entries

    /// <summary>
    /// Unregisters the group and frees the memory. Call before the ring is closed or after: a request still in flight
    /// can pick no buffer once the group is gone.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Libc.IoUringBufReg reg = default;
        reg.Bgid = GroupId;
        Libc.IoUringRegister(_ring.Fd, Libc.IORING_UNREGISTER_PBUF_RING, &reg, 1); // fails only if the ring is gone: nothing to undo then
        NativeMemory.AlignedFree(_entries);
        NativeMemory.AlignedFree(_buffers);
    }
}
