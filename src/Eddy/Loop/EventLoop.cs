using System.Diagnostics;
using System.Runtime.CompilerServices;
using Eddy.Interop;
using Eddy.Loop.Internal;
using Eddy.Selectors;
using Microsoft.Extensions.Logging;

namespace Eddy.Loop;

/// <summary>
/// A single-threaded event loop, asyncio's model in .NET: <see cref="RunForever"/> waits on a
/// <see cref="Selector"/> and runs the callbacks that became due — I/O readiness
/// (<see cref="AddReader(int, Action{object?}, object?)"/>), timers (<see cref="CallLater(TimeSpan, Action{object?}, object?)"/>)
/// and queued work (<see cref="CallSoon(Action{object?}, object?)"/>) — one at a time, on one thread.
///
/// Code running on the loop needs no locks. <c>await</c> in such code resumes on the loop thread:
/// while the loop runs, <see cref="SynchronizationContext.Current"/> is the loop's context, and Eddy's own
/// awaitables (<see cref="SockRecvAsync"/>, <see cref="Delay"/>, …) complete inline on the loop.
/// Only <see cref="CallSoonThreadSafe(Action{object?}, object?)"/>, <see cref="Stop"/> and
/// <see cref="Wakeup"/> may be called from other threads.
///
/// A tick (<see cref="RunOnce"/>): select (not blocking when work is queued), run the I/O callbacks
/// of the ready descriptors, move expired timers to the ready queue, then run the callbacks that are
/// queued at that point; callbacks they schedule run in the next tick.
/// </summary>
public sealed partial class EventLoop : IDisposable
{
    // t_ marks a thread-static field, as dotnet/runtime names them; an .editorconfig naming rule cannot tell a
    // [ThreadStatic] field from another static one, so the s_ rule is lifted here alone.
#pragma warning disable IDE1006
    [ThreadStatic]
    private static EventLoop? t_running;
#pragma warning restore IDE1006

    private readonly Selector _selector;
    private readonly TimeProvider _time;
    private readonly ILogger? _logger;
    private readonly long _startTimestamp;
    private readonly WorkQueue _ready = new();
    private readonly SelectorEvent[] _events = new SelectorEvent[1024];
    private readonly EventLoopSynchronizationContext _syncContext;

    // Thread-safe queue: written by any thread under the lock, drained by the loop each tick.
    private readonly object _threadSafeLock = new();
    private Queue<Work> _threadSafeQueue = new();
    private Queue<Work> _threadSafeSpare = new();
    private volatile int _threadSafeCount;

    // Wake-up: an eventfd in the selector. _wakeupPending is 1 from the first write until the loop
    // drains it, so a burst of CallSoonThreadSafe costs one write(2).
    private readonly int _wakeupFd;
    private int _wakeupPending;

    private volatile bool _stopping;
    private volatile bool _closed;
    private int _threadId = -1; // the running thread, -1 when not running
    private Action<EventLoop, LoopExceptionContext>? _exceptionHandler;

    /// <summary>Creates a loop with the default options: the default selector (<see cref="Selector.Create"/>), the system clock, no logger.</summary>
    public EventLoop() : this(new EventLoopOptions())
    {
    }

    /// <summary>
    /// Creates a loop, not yet running: it owns the selector of <paramref name="options"/> (or a new default one)
    /// and an eventfd for wake-ups. Any thread may create it; the thread that runs it
    /// (<see cref="RunForever"/>, <see cref="Run(Func{Task})"/>, <see cref="RunUntilComplete(Task)"/>) becomes its loop thread.
    /// Throws <see cref="PosixException"/> when the OS refuses a descriptor (EMFILE).
    /// </summary>
    public EventLoop(EventLoopOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _selector = options.Selector ?? Selector.Create();
        _time = options.TimeProvider ?? TimeProvider.System;
        _logger = options.Logger;
        Debug = options.Debug;
        SlowCallbackDuration = options.SlowCallbackDuration;
        Name = options.Name ?? "eddy-loop";
        _startTimestamp = _time.GetTimestamp();
        _nameTag = new KeyValuePair<string, object?>("eddy.loop.name", Name);
        _lagInterval = LagInterval(options, _time);
        _watchdogThreshold = options.WatchdogThreshold ?? TimeSpan.Zero;
        _syncContext = new EventLoopSynchronizationContext(this);
        _wakeupFd = Libc.Check(Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK), "eventfd");
        try
        {
            AddReader(_wakeupFd, static s => ((EventLoop)s!).OnWakeup(), this);
        }
        catch
        {
            Libc.Close(_wakeupFd);
            throw;
        }
        if (_lagInterval > 0)
        {
            StartLagSampling();
        }
        _watchdogTimer = CreateWatchdog(this, options);
    }

    /// <summary>The loop running on the calling thread, or null (asyncio's <c>get_running_loop</c>).</summary>
    public static EventLoop? Current => t_running;

    /// <summary>For logs and error messages (<see cref="EventLoopOptions.Name"/>, default "eddy-loop"); a <see cref="LoopGroup"/> names its loop threads after it.</summary>
    public string Name { get; }

    /// <summary>The logger of <see cref="EventLoopOptions.Logger"/>, if any (for <see cref="LoopGroup"/>'s failure report).</summary>
    internal ILogger? Logger => _logger;

    /// <summary>The selector this loop drives (and owns).</summary>
    public Selector Selector => _selector;

    /// <summary>The clock of <see cref="Time"/> and the timers (<see cref="EventLoopOptions.TimeProvider"/>, default the system's monotonic clock).</summary>
    public TimeProvider TimeProvider => _time;

    /// <summary>Debug mode: wrong-thread checks and slow-callback reports. Costs a clock read per callback.</summary>
    public bool Debug { get; set; }

    /// <summary>In debug mode, callbacks slower than this are reported.</summary>
    public TimeSpan SlowCallbackDuration { get; set; }

    /// <summary>True while a thread runs the loop (inside <see cref="RunForever"/>, <see cref="Run(Func{Task})"/> or <see cref="RunUntilComplete(Task)"/>). Readable from any thread.</summary>
    public bool IsRunning => _threadId != -1;

    /// <summary>True once <see cref="Close"/> ran: the loop takes no new work (scheduling throws <see cref="ObjectDisposedException"/>). Readable from any thread.</summary>
    public bool IsClosed => _closed;

    /// <summary>True on the thread that is running this loop.</summary>
    public bool IsOnLoopThread => _threadId == Environment.CurrentManagedThreadId;

    /// <summary>The loop's synchronization context; set as current on the loop thread while it runs.</summary>
    public SynchronizationContext SynchronizationContext => _syncContext;

    /// <summary>The loop's monotonic clock: time since the loop was created (asyncio's <c>loop.time()</c>).</summary>
    public TimeSpan Time => _time.GetElapsedTime(_startTimestamp);

    /// <summary>
    /// Receives every exception that user code lets escape on the loop. Null restores the default,
    /// which logs to <see cref="EventLoopOptions.Logger"/> or standard error. The loop keeps running.
    /// </summary>
    public Action<EventLoop, LoopExceptionContext>? ExceptionHandler
    {
        get => _exceptionHandler;
        set => _exceptionHandler = value;
    }

    /// <summary>Queues <paramref name="callback"/> to run in a later tick, after the callbacks queued before it (FIFO).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CallSoon(Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        CheckLoopCall(nameof(CallSoon));
        _ready.Enqueue(new Work(callback, state));
    }

    /// <inheritdoc cref="CallSoon(Action{object?}, object?)"/>
    public void CallSoon(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        CheckLoopCall(nameof(CallSoon));
        _ready.Enqueue(new Work(callback, null));
    }

    /// <summary>Like <see cref="CallSoon(Action{object?}, object?)"/>, from any thread; wakes the loop if it is waiting in select.</summary>
    public void CallSoonThreadSafe(Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        EnqueueThreadSafe(new Work(callback, state));
    }

    /// <inheritdoc cref="CallSoonThreadSafe(Action{object?}, object?)"/>
    public void CallSoonThreadSafe(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        EnqueueThreadSafe(new Work(callback, null));
    }

    /// <summary>
    /// Runs <paramref name="callback"/> now when called on the loop thread, else queues it like
    /// <see cref="CallSoonThreadSafe(Action{object?}, object?)"/>; does nothing once the loop is closed.
    /// For notifications that may come from any thread, such as a cancellation token firing.
    /// </summary>
    internal void RunOnLoop(Action<object?> callback, object? state)
    {
        if (IsOnLoopThread)
        {
            callback(state);
            return;
        }
        if (_closed)
        {
            return;
        }
        try
        {
            CallSoonThreadSafe(callback, state);
        }
        catch (ObjectDisposedException)
        {
            // The loop closed meanwhile: nothing is left to notify.
        }
    }

    internal void Post(SendOrPostCallback callback, object? state)
    {
        if (IsOnLoopThread)
        {
            _ready.Enqueue(new Work(callback, state));
        }
        else
        {
            EnqueueThreadSafe(new Work(callback, state));
        }
    }

    /// <summary>Interrupts a blocked select from any thread. Cheap when a wake-up is already pending.</summary>
    public void Wakeup()
    {
        if (Interlocked.Exchange(ref _wakeupPending, 1) == 0)
        {
            // Under the lock Close takes to close the eventfd, so a wake-up racing a Close from another
            // thread can never write to a closed (or, worse, reused) descriptor. Taken once per burst only.
            lock (_wakeupLock)
            {
                if (!_closed)
                {
                    Libc.EventFdSignal(_wakeupFd);
                }
            }
        }
    }

    private readonly object _wakeupLock = new();

    /// <summary>
    /// Makes <see cref="RunForever"/> return after the current tick. Callable from any thread.
    /// Called before the loop runs, the next run does one tick and returns.
    /// </summary>
    public void Stop()
    {
        _stopping = true;
        if (!IsOnLoopThread)
        {
            Wakeup();
        }
    }

    /// <summary>
    /// Releases what the loop owns — its selector (epoll fd) and wake-up eventfd — and drops queued work.
    /// Descriptors registered with <see cref="AddReader(int, Action{object?}, object?)"/> stay open: they belong to the caller.
    /// A closed loop refuses new work. Idempotent; throws if the loop is running.
    /// </summary>
    public void Close()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"{Name}: cannot close a running event loop; call Stop first.");
        }
        if (_closed)
        {
            return;
        }
        _closed = true;
        CloseSignalHandlers();
        CloseTimers();
        _ready.Clear();
        lock (_threadSafeLock)
        {
            _threadSafeQueue.Clear();
            _threadSafeCount = 0;
        }
        CloseWatchers();
        _watchdogTimer?.Dispose();
        _selector.Close();
        lock (_wakeupLock)
        {
            Libc.Close(_wakeupFd);
        }
    }

    /// <summary>The same as <see cref="Close"/>: throws if the loop is running.</summary>
    public void Dispose() => Close();

    /// <summary>Passes an exception from user code to <see cref="ExceptionHandler"/> (or the default handler).</summary>
    public void CallExceptionHandler(LoopExceptionContext context)
    {
        Action<EventLoop, LoopExceptionContext>? handler = _exceptionHandler;
        if (handler is not null)
        {
            try
            {
                handler(this, context);
                return;
            }
            catch (Exception e)
            {
                DefaultExceptionHandler(new LoopExceptionContext("Unhandled error in exception handler", e, handler));
            }
        }
        DefaultExceptionHandler(context);
    }

    private void DefaultExceptionHandler(LoopExceptionContext context)
    {
        try
        {
            if (_logger is not null)
            {
                _logger.LogError(context.Exception, "{Loop}: {Context}", Name, context.Exception is null ? context.ToString() : context.Message);
            }
            else
            {
                Console.Error.WriteLine($"{Name}: {context}");
            }
        }
        catch (Exception)
        {
            // The last resort failed too (a throwing logger, stderr unavailable at EMFILE): the report is
            // lost, but the loop must not die of it and take every connection with it.
        }
    }

    /// <summary>
    /// Makes sure the fallback log can be written when descriptors run out. The fallback is standard error,
    /// and .NET opens <see cref="Console.Error"/> lazily by dup(2) of fd 2 (ConsolePal.Unix.OpenStandardError):
    /// it would fail with EMFILE just when a server has to report that accept ran out of descriptors, and the
    /// failure would escape the loop. A server calls this when it starts listening.
    /// </summary>
    internal void OpenFallbackLog()
    {
        if (_logger is null)
        {
            _ = Console.Error;
        }
    }

    internal void LogWarning(string message)
    {
        try
        {
            if (_logger is not null)
            {
                _logger.LogWarning("{Loop}: {Message}", Name, message);
            }
            else
            {
                Console.Error.WriteLine($"{Name}: {message}");
            }
        }
        catch (Exception)
        {
            // As in DefaultExceptionHandler: a warning that cannot be written must not stop the loop.
        }
    }

    private void EnqueueThreadSafe(in Work work)
    {
        lock (_threadSafeLock)
        {
            ThrowIfClosed();
            _threadSafeQueue.Enqueue(work);
            _threadSafeCount++;
        }
        Wakeup();
    }

    private void OnWakeup()
    {
        Libc.EventFdDrain(_wakeupFd);
        // Reset before draining the queue (RunOnce does that next): a producer that saw 1 enqueued before this point.
        Volatile.Write(ref _wakeupPending, 0);
    }

    /// <summary>Moves work queued by other threads into the ready queue.</summary>
    private void DrainThreadSafeQueue()
    {
        if (_threadSafeCount == 0)
        {
            return;
        }
        Queue<Work> batch;
        lock (_threadSafeLock)
        {
            batch = _threadSafeQueue;
            _threadSafeQueue = _threadSafeSpare;
            _threadSafeSpare = batch;
            _threadSafeCount = 0;
        }
        while (batch.TryDequeue(out Work work))
        {
            _ready.Enqueue(work);
        }
    }

    /// <summary>The check every loop call makes (the layers above call it too): not closed, and in debug mode on the loop thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void CheckLoopCall(string operation)
    {
        if (_closed)
        {
            ThrowClosed();
        }
        if (Debug && IsRunning && !IsOnLoopThread)
        {
            ThrowWrongThread(operation);
        }
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            ThrowClosed();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowClosed() => throw new ObjectDisposedException(Name, $"{Name} is closed; it takes no new work.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowWrongThread(string operation) => throw new InvalidOperationException(
        $"{operation} was called from thread {Environment.CurrentManagedThreadId}, but {Name} runs on thread {_threadId}; use CallSoonThreadSafe.");

    /// <summary>Runs one callback, sending what it throws to the exception handler.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Invoke(object callback, object? state)
    {
        if (Debug)
        {
            InvokeTimed(callback, state);
            return;
        }
        try
        {
            InvokeCore(callback, state);
        }
        catch (Exception e)
        {
            CallExceptionHandler(new LoopExceptionContext("Exception in callback", e, callback, state));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InvokeCore(object callback, object? state)
    {
        // Exact-type checks are a pointer compare; Action<object?> (the hot case) goes first.
        if (callback.GetType() == typeof(Action<object?>))
        {
            Unsafe.As<Action<object?>>(callback)(state);
        }
        else if (callback is Action action)
        {
            action();
        }
        else if (callback is SendOrPostCallback post)
        {
            post(state);
        }
        else
        {
            ((Action<object?>)callback)(state);
        }
    }

    private void InvokeTimed(object callback, object? state)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            InvokeCore(callback, state);
        }
        catch (Exception e)
        {
            CallExceptionHandler(new LoopExceptionContext("Exception in callback", e, callback, state));
        }
        TimeSpan took = Stopwatch.GetElapsedTime(start);
        if (took > SlowCallbackDuration)
        {
            string name = callback is Delegate d ? $"{d.Method.DeclaringType?.Name}.{d.Method.Name}" : callback.ToString() ?? "callback";
            LogWarning($"Executing {name} took {took.TotalMilliseconds:F1} ms");
        }
    }
}
