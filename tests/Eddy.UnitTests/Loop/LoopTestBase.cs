using Eddy.Loop;
using Eddy.UnitTests.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Eddy.UnitTests.Loop;

/// <summary>
/// Builds loops for a test and tears them down after it. Every loop starts with an exception handler that
/// records what reaches it; the test fails if anything did, unless the test installed its own handler
/// (python/cpython's FunctionalTestCaseMixin does the same).
/// </summary>
public abstract class LoopTestBase : IDisposable
{
    private readonly List<EventLoop> _loops = [];
    private readonly List<IDisposable> _owned = [];
    private readonly List<(EventLoop Loop, LoopExceptionContext Context)> _unexpected = [];

    /// <summary>
    /// A loop on a manual clock and a <see cref="FakeSelector"/> that never blocks. With
    /// <paramref name="advanceClock"/>, each wait moves the clock by the timeout the loop asked for, so timers come due
    /// without sleeping; without it, only the test moves the clock.
    /// </summary>
    internal EventLoop CreateFakeLoop(out FakeSelector selector, out FakeTimeProvider clock, bool advanceClock = true, Action<EventLoopOptions>? configure = null)
    {
        clock = new FakeTimeProvider();
        selector = new FakeSelector(advanceClock ? clock : null);
        var options = new EventLoopOptions { Selector = selector, TimeProvider = clock, Name = "fake-loop" };
        configure?.Invoke(options);
        return Track(new EventLoop(options));
    }

    internal EventLoop CreateFakeLoop(Action<EventLoopOptions>? configure = null) => CreateFakeLoop(out _, out _, advanceClock: true, configure);

    /// <summary>
    /// A loop on the default selector (<see cref="Eddy.Selectors.Selector.Create"/>: epoll, or poll when the run sets
    /// <c>EDDY_SELECTOR=poll</c>, as <c>.ci/run</c>'s second pass does) and the system clock.
    /// </summary>
    internal EventLoop CreateRealLoop(Action<EventLoopOptions>? configure = null)
    {
        var options = new EventLoopOptions { Name = "real-loop" };
        configure?.Invoke(options);
        return Track(new EventLoop(options));
    }

    /// <summary>
    /// <see cref="EventLoop.Run(Func{Task})"/> with a watchdog timer that stops the loop after
    /// <see cref="TestTimeouts.Wait"/>, so an await that never completes fails the test.
    /// </summary>
    internal static void RunBounded(EventLoop loop, Func<Task> main) => RunBounded(loop, async () =>
    {
        await main();
        return true;
    });

    internal static T RunBounded<T>(EventLoop loop, Func<Task<T>> main)
    {
        bool timedOut = false;
        TimerHandle watchdog = loop.CallLater(TestTimeouts.Wait, () =>
        {
            timedOut = true;
            loop.Stop();
        });
        try
        {
            return loop.Run(main);
        }
        catch (InvalidOperationException) when (timedOut)
        {
            throw new TimeoutException($"The loop's task did not complete within {TestTimeouts.Wait}.");
        }
        finally
        {
            watchdog.Cancel();
        }
    }

    /// <summary>Runs <paramref name="body"/> on a dedicated background thread; the task fails if it does not finish in time.</summary>
    internal static Task RunOnThreadAsync(Action body, string name = "loop")
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                body();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return done.Task.WaitAsync(TestTimeouts.Wait);
    }

    /// <summary>Waits, bounded, for a condition another thread makes true.</summary>
    internal static void SpinUntil(Func<bool> condition, string what)
    {
        if (!SpinWait.SpinUntil(condition, TestTimeouts.Wait))
        {
            throw new TimeoutException($"Timed out waiting for {what}.");
        }
    }

    /// <summary>Disposes <paramref name="resource"/> after the test, once its loops are closed.</summary>
    internal T Own<T>(T resource) where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    private EventLoop Track(EventLoop loop)
    {
        loop.ExceptionHandler = (l, context) =>
        {
            lock (_unexpected)
            {
                _unexpected.Add((l, context));
            }
        };
        _loops.Add(loop);
        return loop;
    }

    public void Dispose()
    {
        foreach (EventLoop loop in _loops)
        {
            if (!loop.IsRunning)
            {
                loop.Close();
            }
        }
        foreach (IDisposable resource in _owned)
        {
            resource.Dispose();
        }
        GC.SuppressFinalize(this);
        lock (_unexpected)
        {
            Assert.True(_unexpected.Count == 0, "The loop's exception handler was called: " + string.Join("; ", _unexpected.Select(u => u.Context.ToString())));
        }
    }
}
