using Eddy.Interop;

namespace Eddy.Selectors;

/// <summary>
/// The io_uring backend (issue 17). The loop's wait: each registration is a one-shot
/// <c>IORING_OP_POLL_ADD</c> for its interest, and <see cref="Selector.Select"/> is one <c>io_uring_enter</c> that
/// hands over the polls queued since the last one and waits for completions (with its timeout, through
/// <c>IORING_ENTER_EXT_ARG</c>). A reported poll is armed again at the next <see cref="Selector.Select"/>, and a poll
/// completes at once when its descriptor is still ready, so readiness stays level-triggered as the
/// <see cref="Selector"/> contract says. A change of interest removes the armed poll and arms a new one.
/// <para>
/// Each poll's user data carries the descriptor and the serial number of that arming; the key remembers the serial
/// of its live poll, so a completion for a poll removed, superseded or belonging to an earlier registration of the
/// same descriptor number is recognised and dropped. Registering and changing interest cost no system call (the
/// entries wait in the submission ring for the next wait), as epoll's <c>epoll_ctl</c> would cost one each.
/// </para>
/// <para>
/// The ring's own I/O (IoUringSelector.Operations.cs, <see cref="RingIo"/>): a socket transport on this selector reads
/// with one multishot receive into the loop's provided buffers and sends with send requests prepared just before
/// the wait, so a request costs no recv(2), send(2) or epoll_wait(2) of its own — one io_uring_enter hands over the
/// sends of a tick and waits; a server's listener accepts with one multishot accept. Connects, datagrams and pipes
/// keep the readiness half.
/// <c>EDDY_IO=uring</c> makes <see cref="Selector.Create"/> pick it (<c>uring-poll</c>: the wait only), falling back
/// to epoll when the kernel refuses.
/// </para>
/// </summary>
public sealed unsafe partial class IoUringSelector : Selector
{
    private const ulong RemoveTag = ulong.MaxValue; // a POLL_REMOVE's or ASYNC_CANCEL's own completion: nothing to report

    private readonly IoUring _ring;
    private readonly List<SelectorKey> _rearm = [];     // reported by the last Select: armed again at the next
    private uint _serial;

    /// <summary>
    /// Creates the ring. Throws <see cref="PosixException"/> when the kernel refuses io_uring (ENOSYS, EPERM: a
    /// container's policy, <c>kernel.io_uring_disabled</c>) and <see cref="NotSupportedException"/> when it lacks
    /// what this selector needs (poll requests, waits with a timeout).
    /// </summary>
    public IoUringSelector()
        : this(ringIo: true)
    {
    }

    /// <summary>
    /// As <see cref="IoUringSelector()"/>; <paramref name="ringIo"/> false keeps the ring to the loop's wait (the
    /// transports read and write with their own system calls, as on epoll), for comparison.
    /// </summary>
    public IoUringSelector(bool ringIo)
    {
        _ring = CreateRing();
        try
        {
            if ((_ring.Features & Libc.IORING_FEAT_EXT_ARG) == 0 || !_ring.Supports(Libc.IORING_OP_POLL_ADD) || !_ring.Supports(Libc.IORING_OP_POLL_REMOVE))
            {
                throw new NotSupportedException("This kernel's io_uring lacks poll requests or waits with a timeout (Linux 5.11 or later has them).");
            }
            Buffers = CreateBuffers(ringIo);
        }
        catch
        {
            _ring.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public override string Name => "io_uring";

    /// <inheritdoc/>
    protected override void AddToBackend(SelectorKey key)
    {
        ThrowIfNotOpen("Register", key.Fd);
        Arm(key, key.Interest);
    }

    /// <inheritdoc/>
    protected override void ModifyInBackend(SelectorKey key, Interest interest)
    {
        ThrowIfNotOpen("Modify", key.Fd);
        Disarm(key);
        Arm(key, interest);
    }

    /// <inheritdoc/>
    protected override void RemoveFromBackend(SelectorKey key) => Disarm(key);

    /// <summary>
    /// The ring, as the C peer's: DEFER_TASKRUN (completions are posted only when this thread waits for them, in
    /// batches, never by interrupting it) with the SINGLE_ISSUER it requires — created disabled, so the thread that
    /// first enters it (the loop's, at its first select) becomes its one submitter. Kernels before 6.1 lack these:
    /// then COOP_TASKRUN (completions posted when the thread enters the kernel). TASKRUN_FLAG in both: the
    /// non-blocking select sees when completions are waiting.
    /// </summary>
    private static IoUring CreateRing()
    {
        const uint Common = Libc.IORING_SETUP_CQSIZE | Libc.IORING_SETUP_TASKRUN_FLAG;
        try
        {
            return IoUring.Create(256, Common | Libc.IORING_SETUP_R_DISABLED | Libc.IORING_SETUP_SINGLE_ISSUER | Libc.IORING_SETUP_DEFER_TASKRUN, completionEntries: 4096);
        }
        catch (PosixException e) when (e.Errno == Errno.EINVAL)
        {
            return IoUring.Create(256, Common | Libc.IORING_SETUP_COOP_TASKRUN, completionEntries: 4096);
        }
    }

    /// <inheritdoc/>
    protected override int SelectCore(Span<SelectorEvent> events, int timeoutMs)
    {
        PrepareFlushes();
        foreach (SelectorKey key in _rearm)
        {
            if (key.IsRegistered && key.UringSerial == 0)
            {
                Arm(key, key.Interest);
            }
        }
        _rearm.Clear();
        int count = Reap(events);
        if (count > 0 || _completionCount > 0)
        {
            if (_ring.Unsubmitted > 0)
            {
                _ring.Submit(); // the polls armed above go in now; what they find comes with the next call
            }
            return count;
        }
        if (timeoutMs == 0 && _ring.Unsubmitted == 0 && !_ring.TaskRunPending)
        {
            return 0; // nothing to hand over, nothing waiting: no system call
        }
        int result = _ring.SubmitAndWait(timeoutMs);
        if (result < 0)
        {
            Errno errno = (Errno)(-result);
            if (errno == Errno.EEXIST)
            {
                throw new InvalidOperationException(
                    "This io_uring selector is bound to the thread that first waited on it (IORING_SETUP_SINGLE_ISSUER): run its loop on that thread only.");
            }
            if (errno is not (Errno.EINTR or Errno.ETIME or Errno.EBUSY))
            {
                throw new PosixException(errno, "io_uring_enter", _ring.Fd);
            }
        }
        return Reap(events);
    }

    /// <summary>Turns the completions waiting in the ring into events, up to <paramref name="events"/>' room.</summary>
    private int Reap(Span<SelectorEvent> events)
    {
        int count = 0;
        while (count < events.Length && _ring.TryPeek(out Libc.IoUringCqe cqe))
        {
            _ring.Advance();
            if (cqe.UserData == RemoveTag)
            {
                continue;
            }
            if ((cqe.UserData & OperationBit) != 0)
            {
                AddCompletion(cqe); // a request's: its owner hears of it in RunCompletions
                continue;
            }
            SelectorKey? key = LiveKey((int)(uint)cqe.UserData, (uint)(cqe.UserData >> 32));
            if (key is null)
            {
                continue; // a poll removed or superseded, or of an earlier registration of this fd number
            }
            key.UringSerial = 0; // one-shot: this poll is over
            int revents = cqe.Res;
            if (revents == -(int)Errno.ECANCELED)
            {
                Arm(key, key.Interest); // cancelled under us (not by Disarm, which forgets the serial first): watch again
                continue;
            }
            Interest ready = Ready(
                key,
                readable: revents > 0 && (revents & (Libc.POLLIN | Libc.POLLPRI | Libc.POLLRDHUP)) != 0,
                writable: revents > 0 && (revents & Libc.POLLOUT) != 0,
                failed: revents < 0 || (revents & (Libc.POLLERR | Libc.POLLHUP | Libc.POLLNVAL)) != 0);
            if (ready == Interest.None)
            {
                Arm(key, key.Interest);
                continue;
            }
            events[count++] = new SelectorEvent(key, ready);
            _rearm.Add(key);
        }
        return count;
    }

    /// <summary>The live key of <paramref name="fd"/> whose armed poll is the one numbered <paramref name="serial"/>.</summary>
    private SelectorKey? LiveKey(int fd, uint serial) =>
        TryGetKey(fd, out SelectorKey? key) && key.UringSerial == serial && serial != 0 ? key : null;

    /// <summary>Queues a one-shot poll of <paramref name="key"/>'s fd for <paramref name="interest"/>.</summary>
    private void Arm(SelectorKey key, Interest interest)
    {
        _serial = (_serial + 1) & 0x7FFF_FFFF; // 31 bits: a poll's user data never has OperationBit
        uint serial = _serial == 0 ? ++_serial : _serial; // 0 means "not armed"
        Libc.IoUringSqe* sqe = NextSqe();
        sqe->Opcode = Libc.IORING_OP_POLL_ADD;
        sqe->Fd = key.Fd;
        sqe->OpFlags = (uint)(((interest & Interest.Read) != 0 ? Libc.POLLIN | Libc.POLLRDHUP : 0) | ((interest & Interest.Write) != 0 ? Libc.POLLOUT : 0));
        sqe->UserData = ((ulong)serial << 32) | (uint)key.Fd;
        key.UringSerial = serial;
    }

    /// <summary>Queues the removal of <paramref name="key"/>'s armed poll, if it has one; its completion, if it still comes, is dropped.</summary>
    private void Disarm(SelectorKey key)
    {
        if (key.UringSerial == 0)
        {
            return;
        }
        Libc.IoUringSqe* sqe = NextSqe();
        sqe->Opcode = Libc.IORING_OP_POLL_REMOVE;
        sqe->Fd = -1;
        sqe->Addr = ((ulong)key.UringSerial << 32) | (uint)key.Fd;
        sqe->UserData = RemoveTag;
        key.UringSerial = 0;
    }

    /// <summary>A free submission entry; when the ring is full, what is queued goes to the kernel first.</summary>
    private Libc.IoUringSqe* NextSqe()
    {
        if (!_ring.TryGetSqe(out Libc.IoUringSqe* sqe))
        {
            _ring.Submit();
            if (!_ring.TryGetSqe(out sqe))
            {
                throw new InvalidOperationException("The io_uring submission ring is still full after a submit.");
            }
        }
        return sqe;
    }

    /// <inheritdoc/>
    protected override void CloseBackend()
    {
        _rearm.Clear();
        _flushes.Clear();
        Buffers?.Dispose(); // first: its unregistration needs the ring
        _ring.Dispose(); // the kernel cancels every request and drops its references to the files
    }
}
