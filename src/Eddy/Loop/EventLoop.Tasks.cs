namespace Eddy.Loop;

// Driving async code: asyncio's run_until_complete and asyncio.run.
public sealed partial class EventLoop
{
    /// <summary>
    /// Runs the loop until <paramref name="task"/> completes, then returns (or throws what the task threw).
    /// Callbacks still queued keep their place for the next run.
    /// </summary>
    public void RunUntilComplete(Task task)
    {
        ArgumentNullException.ThrowIfNull(task);
        RunUntil(task);
        task.GetAwaiter().GetResult();
    }

    /// <inheritdoc cref="RunUntilComplete(Task)"/>
    public T RunUntilComplete<T>(Task<T> task)
    {
        ArgumentNullException.ThrowIfNull(task);
        RunUntil(task);
        return task.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Starts <paramref name="main"/> on this thread with the loop as its context and runs the loop until the task it returns completes
    /// (asyncio.run without the new loop: create the loop yourself, or use <see cref="Run(Func{EventLoop, Task}, EventLoopOptions?)"/>).
    /// </summary>
    public void Run(Func<Task> main)
    {
        ArgumentNullException.ThrowIfNull(main);
        RunUntilComplete(StartOnLoop(main));
    }

    /// <inheritdoc cref="Run(Func{Task})"/>
    public T Run<T>(Func<Task<T>> main)
    {
        ArgumentNullException.ThrowIfNull(main);
        return RunUntilComplete(StartOnLoop(main));
    }

    /// <summary>asyncio.run: creates a loop, runs <paramref name="main"/> on it to completion, closes the loop.</summary>
    public static void Run(Func<EventLoop, Task> main, EventLoopOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(main);
        using var loop = new EventLoop(options ?? new EventLoopOptions());
        loop.Run(() => main(loop));
    }

    /// <summary>Calls <paramref name="main"/> as the loop would: on this thread, with the loop as current context and running loop.</summary>
    private TTask StartOnLoop<TTask>(Func<TTask> main) where TTask : Task
    {
        ThrowIfClosed();
        SynchronizationContext? saved = SynchronizationContext.Current;
        EventLoop? savedRunning = t_running;
        SynchronizationContext.SetSynchronizationContext(_syncContext);
        t_running = this;
        int savedThread = Interlocked.CompareExchange(ref _threadId, Environment.CurrentManagedThreadId, -1);
        try
        {
            return main();
        }
        finally
        {
            if (savedThread == -1)
            {
                Volatile.Write(ref _threadId, -1);
            }
            t_running = savedRunning;
            SynchronizationContext.SetSynchronizationContext(saved);
        }
    }

    private void RunUntil(Task task)
    {
        if (task.IsCompleted)
        {
            return;
        }
        // A task that completes on another thread must wake a loop blocked in select.
        task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(Wakeup);
        RunTicks(until: task);
        if (!task.IsCompleted)
        {
            throw new InvalidOperationException($"{Name} stopped before the task completed.");
        }
    }
}
