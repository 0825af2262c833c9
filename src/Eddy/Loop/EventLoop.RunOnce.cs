using Eddy.Loop.Internal;
using Eddy.Selectors;

namespace Eddy.Loop;

// The hot path: the only place callbacks are called.
public sealed partial class EventLoop
{
    /// <summary>Runs ticks until <see cref="Stop"/> is called. Throws if the loop is closed or already running.</summary>
    public void RunForever() => RunTicks(until: null);

    /// <summary>Runs ticks on this thread until <see cref="Stop"/>, or until <paramref name="until"/> completes.</summary>
    private void RunTicks(Task? until)
    {
        EnterRunning();
        try
        {
            while (until is null || !until.IsCompleted)
            {
                RunOnce();
                if (_stopping)
                {
                    break;
                }
            }
        }
        finally
        {
            _stopping = false;
            ExitRunning();
        }
    }

    /// <summary>One tick: select, run I/O callbacks, expire timers, run what is ready. See the class summary.</summary>
    internal void RunOnce()
    {
        DrainThreadSafeQueue();

        int timeoutMs = _ready.Count > 0 || _stopping ? 0 : ComputeSelectTimeout();
        bool watched = _watchdogTimer is not null;
        if (watched)
        {
            MarkBusy(false); // waiting in select is not blocking
        }
        int n = _selector.Select(_events, timeoutMs);
        if (watched)
        {
            MarkBusy(true);
        }
        SelectorEvent[] events = _events;
        for (int i = 0; i < n; i++)
        {
            DispatchIo(events[i]);
            events[i] = default;
        }
        _selector.RunCompletions(); // the io_uring backend's receives and sends

        DrainThreadSafeQueue();
        ExpireTimers();

        // Only what is queued now runs in this tick; what these callbacks schedule waits for the next one,
        // so a callback that keeps rescheduling itself cannot starve I/O.
        int ntodo = _ready.Count;
        WorkQueue ready = _ready;
        while (ntodo-- > 0 && ready.Count > 0)
        {
            Work work = ready.Dequeue();
            if (work.Callback is TimerEntry timer)
            {
                RunTimer(timer);
            }
            else
            {
                Invoke(work.Callback, work.State);
            }
        }
    }

    private void DispatchIo(in SelectorEvent ev)
    {
        SelectorKey key = ev.Key;
        if (!key.IsRegistered || key.Data is not FdWatcher watcher)
        {
            return; // unregistered by an earlier callback of this batch
        }
        if ((ev.Events & Interest.Read) != 0)
        {
            if (watcher.Reader is { } reader)
            {
                Invoke(reader, watcher.ReaderState);
            }
            else
            {
                UpdateInterest(watcher); // lazily disarmed reader: stop watching now that it fired
            }
        }
        if ((ev.Events & Interest.Write) != 0 && key.IsRegistered && watcher.IsRegistered)
        {
            if (watcher.Writer is { } writer)
            {
                Invoke(writer, watcher.WriterState);
            }
            else
            {
                UpdateInterest(watcher);
            }
        }
    }

    private void EnterRunning()
    {
        ThrowIfClosed();
        if (t_running is not null)
        {
            throw new InvalidOperationException(t_running == this
                ? $"{Name} is already running."
                : $"Cannot run {Name}: {t_running.Name} is already running on this thread.");
        }
        if (Interlocked.CompareExchange(ref _threadId, Environment.CurrentManagedThreadId, -1) != -1)
        {
            throw new InvalidOperationException($"{Name} is already running on thread {_threadId}.");
        }
        t_running = this;
        _savedContext = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_syncContext);
    }

    private void ExitRunning()
    {
        _selector.SubmitPending(); // what the last callbacks wrote or closed takes effect although the loop stops here
        if (_watchdogTimer is not null)
        {
            MarkBusy(false); // a stopped loop is not a blocked one
        }
        SynchronizationContext.SetSynchronizationContext(_savedContext);
        _savedContext = null;
        t_running = null;
        Volatile.Write(ref _threadId, -1);
    }

    private SynchronizationContext? _savedContext;
}
