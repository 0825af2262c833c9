using Eddy.Loop;
using Eddy.Selectors;
using Eddy.UnitTests.TestSupport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Eddy.UnitTests.Loop;

/// <summary>The loop's core: the ready queue, running and stopping, exceptions from callbacks, debug mode and Close.</summary>
public sealed class EventLoopTests : LoopTestBase
{
    [Fact]
    public void CallSoonRunsCallbacksInTheOrderTheyWereQueued()
    {
        EventLoop loop = CreateFakeLoop();
        var order = new List<int>();
        for (int i = 0; i < 5; i++)
        {
            loop.CallSoon(s => order.Add((int)s!), i);
        }
        loop.CallSoon(() => order.Add(5));

        loop.RunOnce();

        Assert.Equal([0, 1, 2, 3, 4, 5], order);
    }

    [Fact]
    public void ACallbackQueuedDuringATickRunsInTheNextTick()
    {
        EventLoop loop = CreateFakeLoop();
        var order = new List<string>();
        loop.CallSoon(() =>
        {
            order.Add("first");
            loop.CallSoon(() => order.Add("scheduled by first"));
        });
        loop.CallSoon(() => order.Add("second"));

        loop.RunOnce();
        Assert.Equal(["first", "second"], order);

        loop.RunOnce();
        Assert.Equal(["first", "second", "scheduled by first"], order);
    }

    [Fact]
    public void ACallbackThatKeepsReschedulingItselfRunsOncePerTick()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _);
        int runs = 0;
        void Again()
        {
            // Bounded, so a loop that ran it again within the same tick fails the test instead of spinning.
            if (++runs < 100)
            {
                loop.CallSoon(Again);
            }
        }
        loop.CallSoon(Again);

        for (int tick = 1; tick <= 3; tick++)
        {
            loop.RunOnce();
            Assert.Equal(tick, runs);
        }
        Assert.All(selector.Timeouts, t => Assert.Equal(0, t)); // work was always ready: select only looked
    }

    [Fact]
    public void CallSoonGrowsPastItsInitialCapacityKeepingOrder()
    {
        EventLoop loop = CreateFakeLoop();
        var order = new List<int>();
        loop.CallSoon(() =>
        {
            // Wraps the ring buffer before growing it.
            for (int i = 0; i < 1000; i++)
            {
                loop.CallSoon(s => order.Add((int)s!), i);
            }
        });

        loop.RunOnce();
        loop.RunOnce();

        Assert.Equal(Enumerable.Range(0, 1000), order);
    }

    [Fact]
    public void CallSoonRejectsANullCallback()
    {
        EventLoop loop = CreateFakeLoop();

        Assert.Throws<ArgumentNullException>(() => loop.CallSoon(null!, null));
        Assert.Throws<ArgumentNullException>(() => loop.CallSoon((Action)null!));
        Assert.Throws<ArgumentNullException>(() => loop.CallSoonThreadSafe(null!, null));
    }

    [Fact]
    public void StopLetsTheCurrentTickFinishAndLeavesLaterWorkForTheNextRun()
    {
        EventLoop loop = CreateFakeLoop();
        var order = new List<string>();
        loop.CallSoon(() =>
        {
            loop.Stop();
            loop.CallSoon(() => order.Add("next run"));
        });
        loop.CallSoon(() => order.Add("same tick"));

        loop.RunForever();
        Assert.Equal(["same tick"], order);
        Assert.False(loop.IsRunning);

        loop.CallSoon(loop.Stop);
        loop.RunForever();
        Assert.Equal(["same tick", "next run"], order);
    }

    [Fact]
    public void StopBeforeRunningMakesTheNextRunDoOneTick()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _);
        int runs = 0;
        loop.CallSoon(() => runs++);

        loop.Stop();
        loop.RunForever();

        Assert.Equal(1, runs);
        Assert.Equal([0], selector.Timeouts); // a stopping loop does not wait
    }

    [Fact]
    public void CurrentIsTheRunningLoopInsideAndNullOutside()
    {
        EventLoop loop = CreateFakeLoop();
        EventLoop? inside = null;
        bool running = false;
        bool onLoopThread = false;
        SynchronizationContext? context = null;
        loop.CallSoon(() =>
        {
            inside = EventLoop.Current;
            running = loop.IsRunning;
            onLoopThread = loop.IsOnLoopThread;
            context = SynchronizationContext.Current;
            loop.Stop();
        });
        SynchronizationContext? before = SynchronizationContext.Current;

        loop.RunForever();

        Assert.Same(loop, inside);
        Assert.True(running);
        Assert.True(onLoopThread);
        Assert.Same(loop.SynchronizationContext, context);
        Assert.Null(EventLoop.Current);
        Assert.False(loop.IsRunning);
        Assert.False(loop.IsOnLoopThread);
        Assert.Same(before, SynchronizationContext.Current);
    }

    [Fact]
    public void RunningALoopThatIsAlreadyRunningThrows()
    {
        EventLoop loop = CreateFakeLoop();
        EventLoop other = CreateFakeLoop();
        Exception? again = null;
        Exception? nested = null;
        loop.CallSoon(() =>
        {
            again = Record(loop.RunForever);
            nested = Record(other.RunForever);
            loop.Stop();
        });

        loop.RunForever();

        Assert.IsType<InvalidOperationException>(again);
        Assert.Contains("already running", again!.Message);
        Assert.IsType<InvalidOperationException>(nested);
        Assert.Contains("already running on this thread", nested!.Message);
    }

    [Fact]
    public void ACallbackThatThrowsDoesNotStopTheLoop()
    {
        EventLoop loop = CreateFakeLoop();
        var contexts = new List<LoopExceptionContext>();
        loop.ExceptionHandler = (l, context) =>
        {
            Assert.Same(loop, l);
            contexts.Add(context);
        };
        var error = new InvalidOperationException("boom");
        var state = new object();
        Action<object?> throwing = _ => throw error;
        bool laterRan = false;
        loop.CallSoon(throwing, state);
        loop.CallSoon(() => laterRan = true);

        loop.RunOnce();

        Assert.True(laterRan);
        LoopExceptionContext context = Assert.Single(contexts);
        Assert.Same(error, context.Exception);
        Assert.Equal("Exception in callback", context.Message);
        Assert.Same(throwing, context.Callback);
        Assert.Same(state, context.Source);
        Assert.Contains("boom", context.ToString());
    }

    [Fact]
    public void TimerAndReaderCallbacksThatThrowGoToTheExceptionHandler()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _);
        var errors = new List<string>();
        loop.ExceptionHandler = (_, context) => errors.Add(context.Exception!.Message);
        int fd = Descriptors.CreateEventFd();
        try
        {
            loop.CallLater(TimeSpan.FromMilliseconds(1), () => throw new InvalidOperationException("timer"));
            loop.AddReader(fd, _ => throw new InvalidOperationException("reader"), null);
            selector.SetReady(fd, Interest.Read);

            loop.RunOnce();
            loop.RemoveReader(fd);
            loop.RunOnce();

            Assert.Equal(["reader", "timer"], errors.Distinct());
        }
        finally
        {
            Descriptors.Close(fd);
        }
    }

    [Fact]
    public void AThrowingExceptionHandlerFallsBackToTheDefaultHandler()
    {
        var logger = new TestLogger();
        EventLoop loop = CreateFakeLoop(o => o.Logger = logger);
        var handlerError = new InvalidOperationException("handler broke");
        loop.ExceptionHandler = (_, _) => throw handlerError;
        var callbackError = new FormatException("callback broke");
        bool laterRan = false;
        loop.CallSoon(() => throw callbackError);
        loop.CallSoon(() => laterRan = true);

        loop.RunOnce();

        Assert.True(laterRan);
        Assert.All(logger.Entries, e => Assert.Equal(LogLevel.Error, e.Level));
        Assert.Contains(logger.Entries, e => e.Exception == handlerError && e.Message.Contains("Unhandled error in exception handler"));
        Assert.Contains(logger.Entries, e => e.Exception == callbackError && e.Message.Contains("Exception in callback"));
    }

    [Fact]
    public void WithoutAHandlerTheDefaultHandlerLogsTheExceptionAsAnError()
    {
        var logger = new TestLogger();
        EventLoop loop = CreateFakeLoop(o => o.Logger = logger);
        loop.ExceptionHandler = null;
        var error = new InvalidOperationException("boom");
        loop.CallSoon(() => throw error);

        loop.RunOnce();

        LogEntry entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Same(error, entry.Exception);
        Assert.Contains("fake-loop", entry.Message);
    }

    [Fact]
    public void DebugModeReportsACallbackSlowerThanTheThreshold()
    {
        var logger = new TestLogger();
        EventLoop loop = CreateFakeLoop(o =>
        {
            o.Logger = logger;
            o.Debug = true;
            o.SlowCallbackDuration = TimeSpan.FromMilliseconds(1);
        });
        // Slow-callback timing uses Stopwatch, not the loop's clock, so this one really takes its time.
        loop.CallSoon(SlowCallback);

        loop.RunOnce();

        LogEntry entry = Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning);
        Assert.Contains(nameof(SlowCallback), entry.Message);
        Assert.Contains("took", entry.Message);
    }

    [Fact]
    public void WithoutDebugModeSlowCallbacksAreNotReported()
    {
        var logger = new TestLogger();
        EventLoop loop = CreateFakeLoop(o =>
        {
            o.Logger = logger;
            o.SlowCallbackDuration = TimeSpan.FromMilliseconds(1);
        });
        loop.CallSoon(SlowCallback);

        loop.RunOnce();

        Assert.Empty(logger.Entries);
    }

    [Fact]
    public void DebugModeStillSendsExceptionsToTheHandler()
    {
        EventLoop loop = CreateFakeLoop(o => o.Debug = true);
        Exception? seen = null;
        loop.ExceptionHandler = (_, context) => seen = context.Exception;
        loop.CallSoon(() => throw new InvalidOperationException("debug"));

        loop.RunOnce();

        Assert.Equal("debug", seen?.Message);
    }

    [Theory]
    [InlineData("CallSoon")]
    [InlineData("CallLater")]
    [InlineData("AddReader")]
    [InlineData("Delay")]
    public void DebugModeRejectsLoopOnlyCallsFromAnotherThreadNamingCallSoonThreadSafe(string operation)
    {
        EventLoop loop = CreateFakeLoop(o => o.Debug = true);
        Exception? error = null;
        bool threadSafeRan = false;
        loop.CallSoon(() =>
        {
            // The loop is running (this callback is on it); another thread tries a loop-only call.
            var other = new Thread(() =>
            {
                error = Record(() => CallFromAnotherThread(loop, operation));
                loop.CallSoonThreadSafe(() => threadSafeRan = true);
            });
            other.Start();
            Assert.True(other.Join(TestTimeouts.Wait));
        });
        loop.CallSoon(() => loop.CallSoon(loop.Stop));

        loop.RunForever();

        var e = Assert.IsType<InvalidOperationException>(error);
        Assert.Contains("CallSoonThreadSafe", e.Message);
        Assert.Contains(operation == "Delay" ? "Delay" : operation, e.Message);
        Assert.True(threadSafeRan);
    }

    [Fact]
    public void CloseIsIdempotentAndClosesTheSelector()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _);

        loop.Close();
        loop.Close();
        loop.Dispose();

        Assert.True(loop.IsClosed);
        Assert.True(selector.IsClosed);
        Assert.Single(selector.BackendCalls, "close");
    }

    [Fact]
    public void AClosedLoopRefusesNewWork()
    {
        EventLoop loop = CreateFakeLoop();
        loop.Close();
        int fd = Descriptors.CreateEventFd();
        try
        {
            Assert.Throws<ObjectDisposedException>(() => loop.CallSoon(_ => { }, null));
            Assert.Throws<ObjectDisposedException>(() => loop.CallSoon(() => { }));
            Assert.Throws<ObjectDisposedException>(() => loop.CallLater(TimeSpan.FromSeconds(1), _ => { }, null));
            Assert.Throws<ObjectDisposedException>(() => loop.CallLater(TimeSpan.FromSeconds(1), () => { }));
            Assert.Throws<ObjectDisposedException>(() => loop.CallAt(TimeSpan.FromSeconds(1), _ => { }, null));
            Assert.Throws<ObjectDisposedException>(() => loop.CallSoonThreadSafe(_ => { }, null));
            Assert.Throws<ObjectDisposedException>(() => loop.CallSoonThreadSafe(() => { }));
            Assert.Throws<ObjectDisposedException>(() => loop.AddReader(fd, _ => { }, null));
            Assert.Throws<ObjectDisposedException>(() => loop.AddWriter(fd, _ => { }, null));
            Assert.Throws<ObjectDisposedException>(() => loop.Delay(TimeSpan.FromSeconds(1)));
            Assert.Throws<ObjectDisposedException>(loop.RunForever);
            Assert.Throws<ObjectDisposedException>(() => loop.Run(() => Task.CompletedTask));
        }
        finally
        {
            Descriptors.Close(fd);
        }
    }

    [Fact]
    public void CloseWhileRunningThrowsAndLeavesTheLoopUsable()
    {
        EventLoop loop = CreateFakeLoop();
        Exception? error = null;
        bool laterRan = false;
        loop.CallSoon(() =>
        {
            error = Record(loop.Close);
            loop.CallSoon(() =>
            {
                laterRan = true;
                loop.Stop();
            });
        });

        loop.RunForever();

        var e = Assert.IsType<InvalidOperationException>(error);
        Assert.Contains("Stop", e.Message);
        Assert.True(laterRan);
        Assert.False(loop.IsClosed);
    }

    [Fact]
    public void CloseDropsQueuedCallbacksAndTimers()
    {
        EventLoop loop = CreateFakeLoop();
        bool ran = false;
        loop.CallSoon(() => ran = true);
        TimerHandle timer = loop.CallLater(TimeSpan.FromSeconds(1), () => ran = true);

        loop.Close();

        Assert.False(ran);
        Assert.False(timer.IsPending);
        timer.Cancel(); // a no-op once the loop dropped it
    }

    [Fact]
    public void TimeFollowsTheLoopsClockFromZero()
    {
        EventLoop loop = CreateFakeLoop(out _, out FakeTimeProvider clock, advanceClock: false);
        Assert.Equal(TimeSpan.Zero, loop.Time);

        clock.Advance(TimeSpan.FromMilliseconds(1234));

        Assert.Equal(TimeSpan.FromMilliseconds(1234), loop.Time);
        Assert.Same(clock, loop.TimeProvider);
    }

    [Fact]
    public void TheLoopRegistersOnlyItsWakeUpDescriptorAtFirst()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _);

        Assert.Same(selector, loop.Selector);
        Assert.Equal(1, selector.Count);
        Assert.Equal(Interest.Read, Assert.Single(selector.Keys).Interest);
        Assert.Equal("fake-loop", loop.Name);
    }

    private static void SlowCallback() => Thread.Sleep(20);

    private static void CallFromAnotherThread(EventLoop loop, string operation)
    {
        switch (operation)
        {
            case "CallSoon":
                loop.CallSoon(() => { });
                break;
            case "CallLater":
                loop.CallLater(TimeSpan.FromSeconds(1), () => { });
                break;
            case "AddReader":
                loop.AddReader(0, _ => { }, null);
                break;
            case "Delay":
                _ = loop.Delay(TimeSpan.FromSeconds(1));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(operation), operation, null);
        }
    }

    private static Exception? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
