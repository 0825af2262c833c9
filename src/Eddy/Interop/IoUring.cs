namespace Eddy.Interop;

/// <summary>
/// One io_uring instance (io_uring(7)): the submission and completion rings mapped into this process, filled and
/// drained without a system call, and <see cref="Submit"/> (io_uring_enter(2)) to hand over submissions and wait
/// for completions. The base of the io_uring backend (issue 17): <see cref="Selectors.IoUringSelector"/> waits on it.
/// <para>
/// The rings are shared with the kernel, so the indexes are read and written with acquire/release ordering: the
/// kernel's tail of the completion ring is read before the entries it covers, and our tail of the submission ring is
/// written after the entries it publishes. The submission ring's index array maps slot i to entry i once at setup,
/// so entries are used in ring order. One thread only (the loop's), which is also what
/// <see cref="Libc.IORING_SETUP_SINGLE_ISSUER"/> promises the kernel.
/// </para>
/// </summary>
internal sealed unsafe class IoUring : IDisposable
{
    private readonly int _fd;
    private readonly byte* _rings;       // the SQ and CQ rings (one mapping with IORING_FEAT_SINGLE_MMAP)
    private readonly nuint _ringsSize;
    private readonly byte* _cqRings;     // == _rings with a single mapping
    private readonly nuint _cqRingsSize; // 0 with a single mapping
    private readonly Libc.IoUringSqe* _sqes;
    private readonly nuint _sqesSize;

    private readonly uint* _sqFlags;
    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly Libc.IoUringCqe* _cqes;

    private bool _disabled;      // created with IORING_SETUP_R_DISABLED: enabled by the first Submit, on its thread
    private uint _sqLocalTail;   // entries handed out by NextSqe, published to the kernel by Submit
    private uint _sqPublished;   // our last published tail
    private bool _disposed;

    private IoUring(int fd, in Libc.IoUringParams p)
    {
        _fd = fd;
        _disabled = (p.Flags & Libc.IORING_SETUP_R_DISABLED) != 0;
        SubmissionEntries = p.SqEntries;
        CompletionEntries = p.CqEntries;
        Features = p.Features;
        try
        {
            nuint sqSize = p.SqOff.Array + p.SqEntries * sizeof(uint);
            nuint cqSize = p.CqOff.Cqes + p.CqEntries * (uint)sizeof(Libc.IoUringCqe);
            bool single = (p.Features & Libc.IORING_FEAT_SINGLE_MMAP) != 0;
            _ringsSize = single ? Math.Max(sqSize, cqSize) : sqSize;
            _rings = Map(fd, _ringsSize, Libc.IORING_OFF_SQ_RING);
            if (single)
            {
                _cqRings = _rings;
            }
            else
            {
                _cqRingsSize = cqSize;
                _cqRings = Map(fd, cqSize, Libc.IORING_OFF_CQ_RING);
            }
            _sqesSize = p.SqEntries * (uint)sizeof(Libc.IoUringSqe);
            _sqes = (Libc.IoUringSqe*)Map(fd, _sqesSize, Libc.IORING_OFF_SQES);

            _sqFlags = (uint*)(_rings + p.SqOff.Flags);
            _sqHead = (uint*)(_rings + p.SqOff.Head);
            _sqTail = (uint*)(_rings + p.SqOff.Tail);
            _sqMask = *(uint*)(_rings + p.SqOff.RingMask);
            uint* array = (uint*)(_rings + p.SqOff.Array);
            for (uint i = 0; i < p.SqEntries; i++)
            {
                array[i] = i; // slot i always names entry i
            }
            _cqHead = (uint*)(_cqRings + p.CqOff.Head);
            _cqTail = (uint*)(_cqRings + p.CqOff.Tail);
            _cqMask = *(uint*)(_cqRings + p.CqOff.RingMask);
            _cqes = (Libc.IoUringCqe*)(_cqRings + p.CqOff.Cqes);
            _sqLocalTail = _sqPublished = Volatile.Read(ref *_sqTail);
        }
        catch
        {
            Unmap();
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>
    /// io_uring_setup(2) with room for <paramref name="entries"/> submissions (a power of two; the completion ring gets
    /// twice as many, or <paramref name="completionEntries"/> with <see cref="Libc.IORING_SETUP_CQSIZE"/>) and the given setup flags. Throws <see cref="PosixException"/> when the kernel refuses: ENOSYS
    /// (too old), EPERM (forbidden, e.g. by a container's seccomp policy or kernel.io_uring_disabled), EINVAL (flags).
    /// </summary>
    public static IoUring Create(uint entries, uint flags = 0, uint completionEntries = 0)
    {
        Libc.IoUringParams p = default;
        p.Flags = flags;
        p.CqEntries = completionEntries; // read with IORING_SETUP_CQSIZE
        int fd = Libc.IoUringSetup(entries, &p);
        if (fd < 0)
        {
            Libc.ThrowFor("io_uring_setup");
        }
        return new IoUring(fd, p);
    }

    /// <summary>The ring's descriptor.</summary>
    public int Fd => _fd;

    public uint SubmissionEntries { get; }

    public uint CompletionEntries { get; }

    /// <summary>The IORING_FEAT_* bits the kernel reported.</summary>
    public uint Features { get; }

    /// <summary>
    /// With <see cref="Libc.IORING_SETUP_TASKRUN_FLAG"/>: completions are waiting for this thread to enter the kernel
    /// (<see cref="Libc.IORING_SQ_TASKRUN"/>), which <see cref="SubmitAndWait"/> with a zero timeout does.
    /// </summary>
    public bool TaskRunPending => (Volatile.Read(ref *_sqFlags) & Libc.IORING_SQ_TASKRUN) != 0;

    /// <summary>Entries taken with <see cref="TryGetSqe"/> and not yet handed to the kernel.</summary>
    public uint Unsubmitted => _sqLocalTail - _sqPublished;

    /// <summary>
    /// The next free submission entry, zeroed, or false when the ring is full (then <see cref="Submit"/> first).
    /// The entry goes to the kernel with the next <see cref="Submit"/>.
    /// </summary>
    public bool TryGetSqe(out Libc.IoUringSqe* sqe)
    {
        uint head = Volatile.Read(ref *_sqHead);
        if (_sqLocalTail - head >= SubmissionEntries)
        {
            sqe = null;
            return false;
        }
        sqe = _sqes + (_sqLocalTail & _sqMask);
        *sqe = default;
        _sqLocalTail++;
        return true;
    }

    /// <summary>
    /// Publishes the entries taken since the last call and enters the kernel: submits them and, when
    /// <paramref name="waitFor"/> &gt; 0, waits until that many completions are ready. Returns how many entries the
    /// kernel took; throws <see cref="PosixException"/> on failure (EINTR is retried).
    /// </summary>
    public int Submit(uint waitFor = 0)
    {
        uint toSubmit = Publish();
        int n;
        do
        {
            n = Libc.IoUringEnter(_fd, toSubmit, waitFor, waitFor > 0 ? Libc.IORING_ENTER_GETEVENTS : 0);
        }
        while (n < 0 && Libc.LastErrno() == Errno.EINTR);
        if (n < 0)
        {
            Libc.ThrowFor("io_uring_enter", _fd);
        }
        return n;
    }

    /// <summary>
    /// Publishes the entries taken since the last call, submits them, and waits for one completion for at most
    /// <paramref name="timeoutMs"/> (-1: no limit; 0: none, only what is ready) with <see cref="Libc.IORING_ENTER_EXT_ARG"/>. Returns what
    /// io_uring_enter returned, or -errno: the caller decides what EINTR (a signal) and ETIME (the timeout) mean.
    /// </summary>
    public int SubmitAndWait(int timeoutMs)
    {
        uint toSubmit = Publish();
        Libc.KernelTimespec timeout = new() { Seconds = timeoutMs / 1000, Nanoseconds = timeoutMs % 1000 * 1_000_000L };
        Libc.IoUringGeteventsArg arg = new() { Timespec = timeoutMs < 0 ? 0 : (ulong)&timeout };
        uint minComplete = timeoutMs == 0 ? 0u : 1u; // 0: run pending task work and submit, but do not wait
        int n = Libc.IoUringEnter(_fd, toSubmit, minComplete, Libc.IORING_ENTER_GETEVENTS | Libc.IORING_ENTER_EXT_ARG, &arg);
        return n < 0 ? -(int)Libc.LastErrno() : n;
    }

    /// <summary>
    /// Makes the entries taken since the last call visible to the kernel; returns how many. A ring created disabled is
    /// enabled first (IORING_REGISTER_ENABLE_RINGS): with <see cref="Libc.IORING_SETUP_SINGLE_ISSUER"/> the calling
    /// thread becomes the only one that may enter it.
    /// </summary>
    private uint Publish()
    {
        if (_disabled)
        {
            if (Libc.IoUringRegister(_fd, Libc.IORING_REGISTER_ENABLE_RINGS, null, 0) < 0)
            {
                Libc.ThrowFor("io_uring_register(IORING_REGISTER_ENABLE_RINGS)", _fd);
            }
            _disabled = false;
        }
        uint toSubmit = _sqLocalTail - _sqPublished;
        if (toSubmit > 0)
        {
            Volatile.Write(ref *_sqTail, _sqLocalTail); // release: the entries are written before the kernel sees them
            _sqPublished = _sqLocalTail;
        }
        return toSubmit;
    }

    /// <summary>The oldest completion not yet consumed, if any (no system call). Consume it with <see cref="Advance"/>.</summary>
    public bool TryPeek(out Libc.IoUringCqe cqe)
    {
        uint head = *_cqHead; // only we write the head
        if (head == Volatile.Read(ref *_cqTail)) // acquire: the entry is read after the tail that covers it
        {
            cqe = default;
            return false;
        }
        cqe = _cqes[head & _cqMask];
        return true;
    }

    /// <summary>Gives <paramref name="count"/> consumed completion slots back to the kernel.</summary>
    public void Advance(uint count = 1) => Volatile.Write(ref *_cqHead, *_cqHead + count);

    /// <summary>Whether this kernel supports <paramref name="opcode"/> (IORING_REGISTER_PROBE).</summary>
    public bool Supports(byte opcode)
    {
        const int MaxOps = 256;
        // struct io_uring_probe: last_op, ops_len, resv, resv2[3], then 8-byte io_uring_probe_op { op, resv, flags, resv2 }.
        byte* probe = stackalloc byte[16 + MaxOps * 8];
        new Span<byte>(probe, 16 + MaxOps * 8).Clear();
        if (Libc.IoUringRegister(_fd, Libc.IORING_REGISTER_PROBE, probe, MaxOps) < 0)
        {
            Libc.ThrowFor("io_uring_register(IORING_REGISTER_PROBE)", _fd);
        }
        byte lastOp = probe[0];
        if (opcode > lastOp)
        {
            return false;
        }
        ushort flags = *(ushort*)(probe + 16 + opcode * 8 + 2);
        return (flags & Libc.IO_URING_OP_SUPPORTED) != 0;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Unmap();
        Libc.Close(_fd);
    }

    private void Unmap()
    {
        if (_sqes != null)
        {
            Libc.Munmap(_sqes, _sqesSize);
        }
        if (_cqRingsSize != 0 && _cqRings != null)
        {
            Libc.Munmap(_cqRings, _cqRingsSize);
        }
        if (_rings != null)
        {
            Libc.Munmap(_rings, _ringsSize);
        }
    }

    private static byte* Map(int fd, nuint size, long offset)
    {
        void* address = Libc.Mmap(null, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, offset);
        if (address == (void*)-1)
        {
            Libc.ThrowFor("mmap(io_uring)", fd);
        }
        return (byte*)address;
    }
}
