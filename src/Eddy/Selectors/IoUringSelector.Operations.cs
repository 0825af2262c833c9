using Eddy.Interop;

namespace Eddy.Selectors;

/// <summary>What a ring request of a <see cref="IRingOperationOwner"/> does.</summary>
internal enum RingOperation : byte
{
    /// <summary>A multishot receive into the loop's provided buffers: a completion per arrival.</summary>
    Receive = 1,

    /// <summary>A send of bytes the owner keeps pinned until its completion.</summary>
    Send = 2,

    /// <summary>A multishot accept on a listening socket: a completion (the new descriptor) per connection.</summary>
    Accept = 3,
}

/// <summary>
/// An owner of requests on an <see cref="IoUringSelector"/>'s ring (a socket transport): it is told of each completion
/// on the loop's thread, after the wait, as readiness callbacks are, and prepares its sends just before the ring is
/// entered, so everything it wrote during a tick leaves in one send.
/// </summary>
internal interface IRingOperationOwner
{
    void OnCompletion(RingOperation operation, int result, uint flags);

    /// <summary>Turns what was written into send requests; called before the wait for an owner that asked with
    /// <see cref="IoUringSelector.RequestFlush"/> (an owner that never asks, a listener, keeps this empty default).</summary>
    void PrepareSends()
    {
    }
}

// The ring's own I/O (issue 17, step 2's second stage): receives, sends and their cancellations as submissions, their
// completions handed to the owners. The readiness half (IoUringSelector.cs) stays for what has no request of its own
// here (listening sockets, connects, files, pipes).
public sealed unsafe partial class IoUringSelector
{
    private const ulong OperationBit = 1UL << 63; // set: a request of an owner (bits 32–39 its kind, 0–31 its slot); clear: a poll
    private const int BufferCount = 1024;
    private const int BufferSize = 4096;

    private IRingOperationOwner?[] _owners = new IRingOperationOwner?[64];
    private readonly Stack<int> _freeSlots = new();
    private int _slotsUsed;
    private Completion[] _completions = new Completion[64];
    private int _completionCount;
    private readonly List<IRingOperationOwner> _flushes = [];

    private readonly record struct Completion(int Slot, RingOperation Operation, int Result, uint Flags);

    /// <summary>
    /// The loop's provided receive buffers, or null when the ring serves readiness only (<c>EDDY_IO=uring-poll</c>, or
    /// a kernel before 6.3): transports then read and write with their own system calls.
    /// </summary>
    internal IoUringBufferRing? Buffers { get; }

    /// <summary>Receives, sends and cancellations as ring requests (false: only the wait is on the ring).</summary>
    public bool RingIo => Buffers is not null;

    private IoUringBufferRing? CreateBuffers(bool ringIo)
    {
        if (!ringIo || (_ring.Features & Libc.IORING_FEAT_REG_REG_RING) == 0 || !_ring.Supports(Libc.IORING_OP_ACCEPT)
            || !_ring.Supports(Libc.IORING_OP_RECV) || !_ring.Supports(Libc.IORING_OP_SEND) || !_ring.Supports(Libc.IORING_OP_ASYNC_CANCEL))
        {
            return null;
        }
        try
        {
            return IoUringBufferRing.Create(_ring, groupId: 0, BufferCount, BufferSize);
        }
        catch (PosixException)
        {
            return null; // the kernel refuses provided-buffer rings: readiness only
        }
    }

    /// <summary>Gives <paramref name="owner"/> a slot: the number its requests carry. Keep it until none is in flight.</summary>
    internal int Attach(IRingOperationOwner owner)
    {
        int slot;
        if (_freeSlots.Count > 0)
        {
            slot = _freeSlots.Pop();
        }
        else
        {
            if (_slotsUsed == _owners.Length)
            {
                Array.Resize(ref _owners, _owners.Length * 2);
            }
            slot = _slotsUsed++;
        }
        _owners[slot] = owner;
        return slot;
    }

    /// <summary>Frees <paramref name="slot"/>; its owner must have no request in flight.</summary>
    internal void Detach(int slot)
    {
        _owners[slot] = null;
        _freeSlots.Push(slot);
    }

    /// <summary>Queues a multishot receive on <paramref name="fd"/> into the provided buffers.</summary>
    internal void QueueReceive(int slot, int fd)
    {
        Libc.IoUringSqe* sqe = NextSqe();
        sqe->Opcode = Libc.IORING_OP_RECV;
        sqe->Fd = fd;
        sqe->IoPrio = Libc.IORING_RECV_MULTISHOT;
        sqe->Flags = Libc.IOSQE_BUFFER_SELECT;
        sqe->BufIndex = Buffers!.GroupId;
        sqe->UserData = Tag(slot, RingOperation.Receive);
    }

    /// <summary>Queues a multishot accept on the listening socket <paramref name="fd"/>; each connection comes non-blocking and close-on-exec.</summary>
    internal void QueueAccept(int slot, int fd)
    {
        Libc.IoUringSqe* sqe = NextSqe();
        sqe->Opcode = Libc.IORING_OP_ACCEPT;
        sqe->Fd = fd;
        sqe->IoPrio = Libc.IORING_ACCEPT_MULTISHOT;
        sqe->OpFlags = (uint)(Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC);
        sqe->UserData = Tag(slot, RingOperation.Accept);
    }

    /// <summary>Queues a send of <paramref name="length"/> bytes at <paramref name="data"/>, which must stay put until its completion.</summary>
    internal void QueueSend(int slot, int fd, byte* data, int length)
    {
        Libc.IoUringSqe* sqe = NextSqe();
        sqe->Opcode = Libc.IORING_OP_SEND;
        sqe->Fd = fd;
        sqe->Addr = (ulong)data;
        sqe->Len = (uint)length;
        sqe->OpFlags = Libc.MSG_NOSIGNAL;
        sqe->UserData = Tag(slot, RingOperation.Send);
    }

    /// <summary>Queues the cancellation of <paramref name="slot"/>'s request of kind <paramref name="operation"/>; the request still completes (with ECANCELED if it was stopped).</summary>
    internal void QueueCancel(int slot, RingOperation operation)
    {
        Libc.IoUringSqe* sqe = NextSqe();
        sqe->Opcode = Libc.IORING_OP_ASYNC_CANCEL;
        sqe->Fd = -1;
        sqe->Addr = Tag(slot, operation);
        sqe->UserData = RemoveTag;
    }

    /// <summary><paramref name="owner"/>'s <see cref="IRingOperationOwner.PrepareSends"/> runs before the next wait (ask once per tick).</summary>
    internal void RequestFlush(IRingOperationOwner owner) => _flushes.Add(owner);

    private static ulong Tag(int slot, RingOperation operation) => OperationBit | ((ulong)operation << 32) | (uint)slot;

    /// <summary>Lets the owners that asked turn what they wrote into sends, before the ring is entered.</summary>
    private void PrepareFlushes()
    {
        // An owner may ask again while preparing (it will not: it asks only with nothing in flight); index, not foreach.
        for (int i = 0; i < _flushes.Count; i++)
        {
            _flushes[i].PrepareSends();
        }
        _flushes.Clear();
    }

    /// <summary>Keeps a request's completion for <see cref="RunCompletions"/>.</summary>
    private void AddCompletion(in Libc.IoUringCqe cqe)
    {
        if (_completionCount == _completions.Length)
        {
            Array.Resize(ref _completions, _completions.Length * 2);
        }
        _completions[_completionCount++] = new Completion((int)(uint)cqe.UserData, (RingOperation)(byte)(cqe.UserData >> 32), cqe.Res, cqe.Flags);
    }

    /// <inheritdoc/>
    internal override void SubmitPending()
    {
        if (IsClosed)
        {
            return;
        }
        PrepareFlushes();
        if (_ring.Unsubmitted > 0)
        {
            _ring.Submit();
        }
    }

    /// <inheritdoc/>
    internal override void RunCompletions()
    {
        // Completions are taken only by Select, never while these run, so the array is stable.
        for (int i = 0; i < _completionCount; i++)
        {
            Completion c = _completions[i];
            _completions[i] = default;
            _owners[c.Slot]!.OnCompletion(c.Operation, c.Result, c.Flags);
        }
        _completionCount = 0;
    }
}
