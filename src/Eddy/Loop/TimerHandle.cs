using Eddy.Loop.Internal;

namespace Eddy.Loop;

/// <summary>
/// A callback scheduled with <see cref="EventLoop.CallLater(TimeSpan, Action{object?}, object?)"/> or
/// <see cref="EventLoop.CallAt(TimeSpan, Action{object?}, object?)"/>. A small struct over a pooled
/// entry, so scheduling allocates nothing; copies refer to the same timer. Loop thread only.
/// </summary>
public readonly struct TimerHandle
{
    private readonly TimerEntry? _entry;
    private readonly int _version;
    private readonly EventLoop? _loop;

    internal TimerHandle(EventLoop loop, TimerEntry entry)
    {
        _loop = loop;
        _entry = entry;
        _version = entry.Version;
    }

    /// <summary>True while the callback is still due to run: scheduled, not run and not cancelled.</summary>
    public bool IsPending => _entry is not null && _entry.Version == _version && _entry.IsScheduled && !_entry.IsCancelled;

    /// <summary>When the callback is due, on the loop's clock (<see cref="EventLoop.Time"/>); zero once it ran or was cancelled.</summary>
    public TimeSpan When => IsPending ? _loop!.ToLoopTime(_entry!.Deadline) : TimeSpan.Zero;

    /// <summary>Stops the callback from running. Idempotent; does nothing once it ran.</summary>
    public void Cancel()
    {
        if (IsPending)
        {
            _loop!.CancelTimer(_entry!);
        }
    }
}
