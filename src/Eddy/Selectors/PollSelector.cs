using Eddy.Interop;

namespace Eddy.Selectors;

/// <summary>
/// The portable fallback: poll(2) over an array of pollfd kept in step with the registrations
/// (a removed slot is filled by the last one, so the array stays dense). O(n) per <see cref="Selector.Select"/>,
/// fine for the few hundred descriptors it is meant for.
/// </summary>
public sealed class PollSelector : Selector
{
    private Libc.PollFd[] _pollFds = new Libc.PollFd[64];
    private SelectorKey[] _slots = new SelectorKey[64];
    private int _used;

    /// <inheritdoc/>
    public override string Name => "poll";

    /// <inheritdoc/>
    protected override void AddToBackend(SelectorKey key)
    {
        ThrowIfNotOpen("Register", key.Fd);
        if (_used == _pollFds.Length)
        {
            Array.Resize(ref _pollFds, _used * 2);
            Array.Resize(ref _slots, _used * 2);
        }
        _pollFds[_used] = new Libc.PollFd { Fd = key.Fd, Events = ToPoll(key.Interest) };
        _slots[_used] = key;
        key.PollIndex = _used++;
    }

    /// <inheritdoc/>
    protected override void ModifyInBackend(SelectorKey key, Interest interest)
    {
        ThrowIfNotOpen("Modify", key.Fd);
        _pollFds[key.PollIndex].Events = ToPoll(interest);
    }

    /// <inheritdoc/>
    protected override void RemoveFromBackend(SelectorKey key)
    {
        int index = key.PollIndex;
        int last = --_used;
        if (index != last)
        {
            _pollFds[index] = _pollFds[last];
            _slots[index] = _slots[last];
            _slots[index].PollIndex = index;
        }
        _slots[last] = null!;
        key.PollIndex = -1;
    }

    /// <inheritdoc/>
    protected override int SelectCore(Span<SelectorEvent> events, int timeoutMs)
    {
        int n = Libc.Poll(_pollFds.AsSpan(0, _used), timeoutMs);
        if (n == -1)
        {
            if (Libc.LastErrno() == Errno.EINTR)
            {
                return 0;
            }
            Libc.ThrowFor("poll");
        }
        int count = 0;
        for (int i = 0; i < _used && n > 0 && count < events.Length; i++)
        {
            short revents = _pollFds[i].REvents;
            if (revents == 0)
            {
                continue;
            }
            n--;
            SelectorKey key = _slots[i];
            Interest ready = Ready(
                key,
                readable: (revents & (Libc.POLLIN | Libc.POLLPRI)) != 0,
                writable: (revents & Libc.POLLOUT) != 0,
                failed: (revents & (Libc.POLLERR | Libc.POLLHUP | Libc.POLLNVAL)) != 0);
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
        _used = 0;
        Array.Clear(_slots);
    }

    private static short ToPoll(Interest interest) =>
        (short)(((interest & Interest.Read) != 0 ? Libc.POLLIN : 0) | ((interest & Interest.Write) != 0 ? Libc.POLLOUT : 0));
}
