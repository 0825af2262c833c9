using Eddy.Interop;

namespace Eddy.Selectors;

/// <summary>
/// The Linux selector: one epoll instance, level-triggered. Each registration's epoll data carries
/// its fd and generation, so an event that arrives for a descriptor that was unregistered (and maybe
/// reused) within the same batch is recognised as stale and dropped.
/// </summary>
public sealed class EpollSelector : Selector
{
    private readonly int _epfd;
    private readonly EpollEventBuffer _buffer = new();

    /// <summary>Creates the epoll instance (close-on-exec). Throws <see cref="PosixException"/> (EMFILE when descriptors are out).</summary>
    public EpollSelector()
    {
        _epfd = Libc.Check(Libc.EpollCreate1(Libc.EPOLL_CLOEXEC), "epoll_create1");
    }

    /// <inheritdoc/>
    public override string Name => "epoll";

    /// <inheritdoc/>
    protected override void AddToBackend(SelectorKey key) => Control(Libc.EPOLL_CTL_ADD, key, key.Interest, "epoll_ctl(ADD)");

    /// <inheritdoc/>
    protected override void ModifyInBackend(SelectorKey key, Interest interest) => Control(Libc.EPOLL_CTL_MOD, key, interest, "epoll_ctl(MOD)");

    /// <inheritdoc/>
    protected override void RemoveFromBackend(SelectorKey key)
    {
        // A closed fd left the epoll set by itself (epoll(7), Q6); that is not an error when unregistering.
        if (Libc.EpollCtl(_epfd, Libc.EPOLL_CTL_DEL, key.Fd, 0, 0) == -1 && Libc.LastErrno() is not (Errno.EBADF or Errno.ENOENT))
        {
            Libc.ThrowFor("epoll_ctl(DEL)", key.Fd);
        }
    }

    /// <inheritdoc/>
    protected override int SelectCore(Span<SelectorEvent> events, int timeoutMs)
    {
        int n = _buffer.Wait(_epfd, Math.Min(events.Length, EpollEventBuffer.Capacity), timeoutMs);
        if (n == -1)
        {
            if (Libc.LastErrno() == Errno.EINTR)
            {
                return 0; // "epoll_wait may return EINTR" when a signal arrives: the caller recomputes its timeout.
            }
            Libc.ThrowFor("epoll_wait", _epfd);
        }
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            _buffer.Get(i, out uint flags, out ulong data);
            SelectorKey? key = CurrentKey((int)(uint)data, (uint)(data >> 32));
            if (key is null)
            {
                continue; // unregistered earlier in this batch
            }
            Interest ready = Ready(
                key,
                readable: (flags & (Libc.EPOLLIN | Libc.EPOLLPRI | Libc.EPOLLRDHUP)) != 0,
                writable: (flags & Libc.EPOLLOUT) != 0,
                failed: (flags & (Libc.EPOLLERR | Libc.EPOLLHUP)) != 0);
            if (ready != Interest.None)
            {
                events[count++] = new SelectorEvent(key, ready);
            }
        }
        return count;
    }

    /// <inheritdoc/>
    protected override void CloseBackend()
    {
        Libc.Close(_epfd);
        _buffer.Dispose();
    }

    private void Control(int op, SelectorKey key, Interest interest, string operation)
    {
        uint flags = ((interest & Interest.Read) != 0 ? Libc.EPOLLIN : 0) | ((interest & Interest.Write) != 0 ? Libc.EPOLLOUT : 0);
        ulong data = ((ulong)key.Generation << 32) | (uint)key.Fd;
        if (Libc.EpollCtl(_epfd, op, key.Fd, flags, data) == -1)
        {
            Libc.ThrowFor(operation, key.Fd);
        }
    }
}
