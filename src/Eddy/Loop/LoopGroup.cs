namespace Eddy.Loop;

/// <summary>
/// N event loops, each running on its own thread: one loop per core (the default), every connection
/// living on one loop for its whole life, so loops share nothing and need no locks. Servers created
/// through the group (<c>CreateServerAsync</c> of <c>Eddy.Transports</c>, <c>StartServerAsync</c> of
/// <c>Eddy.Streams</c>) listen on every loop with SO_REUSEPORT, and the kernel spreads incoming connections
/// over the loops.
/// A loop thread whose own machinery fails (<see cref="EventLoop.RunForever"/> throws: user code never gets there,
/// the loop catches it) writes the exception with the loop's name to standard error and ends the process with
/// <see cref="Environment.FailFast(string, Exception)"/>: a process whose loop is gone but whose listening sockets
/// stay open would queue connections forever, so it must die loudly and let its supervisor restart it.
/// </summary>
public sealed class LoopGroup : IDisposable
{
    private readonly EventLoop[] _loops;
    private readonly Thread[] _threads;
    private int _next = -1;
    private int _state; // 0 created, 1 started, 2 stopped

    /// <param name="loopCount">How many loops; 0 or less means <see cref="Environment.ProcessorCount"/> (which honours CPU affinity, e.g. taskset).</param>
    /// <param name="options">Options for loop <c>i</c>; the default names them "eddy-loop-i".</param>
    public LoopGroup(int loopCount = 0, Func<int, EventLoopOptions>? options = null)
    {
        int count = loopCount > 0 ? loopCount : Environment.ProcessorCount;
        _loops = new EventLoop[count];
        _threads = new Thread[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                _loops[i] = new EventLoop(options?.Invoke(i) ?? new EventLoopOptions { Name = $"eddy-loop-{i}" });
            }
        }
        catch
        {
            foreach (EventLoop? loop in _loops)
            {
                loop?.Close();
            }
            throw;
        }
    }

    /// <summary>The group's loops, in index order, created with it and fixed for its life. Call into a loop from
    /// its own thread (e.g. through <see cref="InvokeAsync{T}(EventLoop, Func{T})"/>) once the group runs.</summary>
    public IReadOnlyList<EventLoop> Loops => _loops;

    /// <summary>How many loops (and threads) the group has.</summary>
    public int Count => _loops.Length;

    /// <summary>True from <see cref="Start"/> until <see cref="Stop"/>. Readable from any thread.</summary>
    public bool IsRunning => Volatile.Read(ref _state) == 1;

    /// <summary>The next loop in round-robin order, for spreading work (e.g. client connections) over the group.</summary>
    public EventLoop Next() => _loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Length)];

    /// <summary>Starts every loop on its own thread (<see cref="EventLoop.RunForever"/>). Idempotent.</summary>
    public void Start()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            return;
        }
        for (int i = 0; i < _loops.Length; i++)
        {
            int index = i;
            _threads[i] = new Thread(() => RunLoop(index)) { IsBackground = true, Name = _loops[i].Name };
            _threads[i].Start();
        }
    }

    /// <summary>Runs <paramref name="action"/> on <paramref name="loop"/>'s thread and returns what its task returns. Callable from any thread.</summary>
    public static Task<T> InvokeAsync<T>(EventLoop loop, Func<Task<T>> action)
    {
        if (loop.IsOnLoopThread)
        {
            return action();
        }
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.CallSoonThreadSafe(() =>
        {
            Task<T> task;
            try
            {
                task = action();
            }
            catch (Exception e)
            {
                done.TrySetException(e);
                return;
            }
            task.ContinueWith(static (t, s) => ((TaskCompletionSource<T>)s!).TrySetFromTask(t), done, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        });
        return done.Task;
    }

    /// <summary>Runs <paramref name="action"/> on <paramref name="loop"/>'s thread. Callable from any thread.</summary>
    public static Task<T> InvokeAsync<T>(EventLoop loop, Func<T> action) => InvokeAsync(loop, () => Task.FromResult(action()));

    /// <summary>Runs <paramref name="action"/> on every loop, each on its own thread, and waits for all. Throws
    /// <see cref="InvalidOperationException"/> when the group is not running (work for a loop that does not run would
    /// wait forever).</summary>
    public Task<T[]> InvokeOnEachAsync<T>(Func<EventLoop, Task<T>> action)
    {
        ThrowIfNotRunning("run work on its loops");
        return Task.WhenAll(_loops.Select(loop => InvokeAsync(loop, () => action(loop))));
    }

    /// <summary>Throws a clear <see cref="InvalidOperationException"/> unless the group runs: before
    /// <see cref="Start"/> (a common slip) or after <see cref="Stop"/>, work queued to a loop would never run.</summary>
    internal void ThrowIfNotRunning(string what)
    {
        switch (Volatile.Read(ref _state))
        {
            case 0:
                throw new InvalidOperationException($"Cannot {what}: the LoopGroup has not been started. Call group.Start() first.");
            case 2:
                throw new InvalidOperationException($"Cannot {what}: the LoopGroup has been stopped.");
        }
    }

    /// <summary>Stops every loop and waits for its thread to finish. Callable from any thread but a loop's own (there it throws <see cref="InvalidOperationException"/>). Idempotent.</summary>
    public void Stop()
    {
        if (_loops.Any(loop => loop.IsOnLoopThread))
        {
            // Joining its own thread would wait forever.
            throw new InvalidOperationException("Stop was called on one of the group's loop threads; call it from another thread.");
        }
        if (Interlocked.Exchange(ref _state, 2) != 1)
        {
            return;
        }
        foreach (EventLoop loop in _loops)
        {
            loop.Stop();
        }
        foreach (Thread thread in _threads)
        {
            thread.Join();
        }
    }

    /// <summary>Stops the loops (if running) and closes them.</summary>
    public void Dispose()
    {
        try
        {
            Stop();
        }
        finally
        {
            // The loops have stopped, and each still holds its epoll fd and eventfd.
            // (They run on only when Stop refused to join from a loop thread.)
            foreach (EventLoop loop in _loops)
            {
                if (!loop.IsRunning)
                {
                    loop.Close();
                }
            }
        }
    }

    private void RunLoop(int index)
    {
        EventLoop loop = _loops[index];
        try
        {
            loop.RunForever();
        }
        catch (Exception e)
        {
            // RunForever itself failing is a bug in the loop's own machinery (the selector, the queues), never user
            // code, which the loop catches. Keeping the exception and letting the thread end left a zombie: the
            // listening sockets stay open, connections queue and nobody accepts them (issue 14). STYLE.md: crash
            // loudly. The line goes out first and on its own, so the context survives however FailFast reports.
            string message = $"eddy: event loop '{loop.Name}' (loop {index} of {_loops.Length}) failed in its own machinery; ending the process: {e}";
            try
            {
                Console.Error.WriteLine(message);
                Console.Error.Flush();
            }
            catch (IOException)
            {
                // Standard error is gone; FailFast still reports to the system log and aborts.
            }
            Environment.FailFast($"eddy: event loop '{loop.Name}' failed in its own machinery.", e);
        }
    }
}
