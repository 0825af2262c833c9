using Eddy.Loop.Internal;

namespace Eddy.Loop;

// Timers: a binary heap ordered by (deadline, scheduling order), with pooled entries and lazy
// deletion of cancelled ones (as asyncio does), rebuilt when they outnumber the live ones.
public sealed partial class EventLoop
{
    private readonly PriorityQueue<TimerEntry, (long Deadline, long Sequence)> _timers = new();
    private readonly Stack<TimerEntry> _timerPool = new();
    private long _timerSequence;
    private int _cancelledTimers;

    /// <summary>Runs <paramref name="callback"/> once, no earlier than <paramref name="delay"/> from now. Loop thread only.</summary>
    public TimerHandle CallLater(TimeSpan delay, Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return Schedule(checked(_time.GetTimestamp() + ToTicks(delay)), callback, state);
    }

    /// <inheritdoc cref="CallLater(TimeSpan, Action{object?}, object?)"/>
    public TimerHandle CallLater(TimeSpan delay, Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return Schedule(checked(_time.GetTimestamp() + ToTicks(delay)), callback, null);
    }

    /// <summary>Runs <paramref name="callback"/> once, no earlier than <paramref name="when"/> on the loop's clock (<see cref="Time"/>).</summary>
    public TimerHandle CallAt(TimeSpan when, Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return Schedule(_startTimestamp + ToTicks(when), callback, state);
    }

    /// <summary>Completes after <paramref name="delay"/>, on the loop thread. Allocates nothing in steady state.</summary>
    public ValueTask Delay(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        CheckLoopCall(nameof(Delay));
        DelayOperation operation = _delayPool.Count > 0 ? _delayPool.Pop() : new DelayOperation(this);
        return operation.Start(delay, cancellationToken);
    }

    private readonly Stack<DelayOperation> _delayPool = new();

    internal void ReturnDelay(DelayOperation operation) => _delayPool.Push(operation);

    internal TimeSpan ToLoopTime(long timestamp) =>
        TimeSpan.FromTicks((long)((timestamp - _startTimestamp) * ((double)TimeSpan.TicksPerSecond / _time.TimestampFrequency)));

    internal TimerHandle Schedule(long deadline, object callback, object? state)
    {
        CheckLoopCall("CallLater");
        TimerEntry entry = _timerPool.Count > 0 ? _timerPool.Pop() : new TimerEntry();
        entry.Deadline = deadline;
        entry.Sequence = ++_timerSequence;
        entry.Callback = callback;
        entry.State = state;
        entry.IsCancelled = false;
        entry.IsScheduled = true;
        _timers.Enqueue(entry, (deadline, entry.Sequence));
        return new TimerHandle(this, entry);
    }

    internal void CancelTimer(TimerEntry entry)
    {
        entry.IsCancelled = true;
        entry.Callback = null;
        entry.State = null;
        _cancelledTimers++;
        if (_cancelledTimers > 100 && _cancelledTimers * 2 > _timers.Count)
        {
            RemoveCancelledTimers();
        }
    }

    /// <summary>True when a callback is ready or a timer is due: a tick now would run something. (In-memory tests wait for this to be false.)</summary>
    internal bool HasDueWork => _ready.Count > 0 || _threadSafeCount > 0 || ComputeSelectTimeout() == 0;

    /// <summary>Milliseconds until the earliest timer, rounded up so select never returns before it is due; -1 with no timers.</summary>
    private int ComputeSelectTimeout()
    {
        while (_timers.TryPeek(out TimerEntry? first, out _))
        {
            if (first.IsCancelled)
            {
                _timers.Dequeue();
                Recycle(first);
                continue;
            }
            long remaining = first.Deadline - _time.GetTimestamp();
            if (remaining <= 0)
            {
                return 0;
            }
            long frequency = _time.TimestampFrequency;
            long ms = (remaining * 1000 + frequency - 1) / frequency;
            return (int)Math.Min(ms, int.MaxValue);
        }
        return -1;
    }

    /// <summary>Moves every timer whose deadline has passed to the ready queue, in deadline order.</summary>
    private void ExpireTimers()
    {
        if (_timers.Count == 0)
        {
            return;
        }
        long now = _time.GetTimestamp();
        while (_timers.TryPeek(out TimerEntry? first, out var priority) && priority.Deadline <= now)
        {
            _timers.Dequeue();
            if (first.IsCancelled)
            {
                Recycle(first);
                continue;
            }
            _ready.Enqueue(new Work(first, null));
        }
    }

    private void RunTimer(TimerEntry entry)
    {
        if (entry.IsCancelled)
        {
            Recycle(entry); // cancelled after it expired, before its turn came
            return;
        }
        object callback = entry.Callback!;
        object? state = entry.State;
        entry.IsScheduled = false;
        Recycle(entry);
        Invoke(callback, state);
    }

    private void Recycle(TimerEntry entry)
    {
        if (entry.IsCancelled)
        {
            _cancelledTimers--;
        }
        entry.Version++;
        entry.IsScheduled = false;
        entry.IsCancelled = false;
        entry.Callback = null;
        entry.State = null;
        _timerPool.Push(entry);
    }

    private void RemoveCancelledTimers()
    {
        var live = new List<(TimerEntry, (long, long))>(_timers.Count - _cancelledTimers);
        while (_timers.TryDequeue(out TimerEntry? entry, out var priority))
        {
            if (entry.IsCancelled)
            {
                Recycle(entry);
            }
            else
            {
                live.Add((entry, priority));
            }
        }
        _timers.EnqueueRange(live);
    }

    private void CloseTimers()
    {
        while (_timers.TryDequeue(out TimerEntry? entry, out _))
        {
            entry.IsScheduled = false;
            entry.Version++;
        }
        _timerPool.Clear();
        _cancelledTimers = 0;
    }

    private long ToTicks(TimeSpan span)
    {
        if (span <= TimeSpan.Zero)
        {
            return 0;
        }
        // Round up: a timer must never fire early.
        return (long)Math.Ceiling(span.Ticks * ((double)_time.TimestampFrequency / TimeSpan.TicksPerSecond));
    }
}
