using Eddy.Loop;
using Eddy.UnitTests.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Eddy.UnitTests.Loop;

/// <summary>Driving async code: Run, RunUntilComplete, Delay, and where awaits resume.</summary>
public sealed class EventLoopTasksTests : LoopTestBase
{
    [Fact]
    public void RunUntilCompleteReturnsTheTasksResult()
    {
        EventLoop loop = CreateFakeLoop();
        var source = new TaskCompletionSource<int>();
        loop.CallLater(TimeSpan.FromMilliseconds(5), () => source.SetResult(42));

        Assert.Equal(42, loop.RunUntilComplete(source.Task));
        Assert.False(loop.IsRunning);
    }

    [Fact]
    public void RunUntilCompleteRethrowsTheTasksExceptionUnwrapped()
    {
        EventLoop loop = CreateFakeLoop();
        var source = new TaskCompletionSource();
        var error = new FormatException("bad");
        loop.CallLater(TimeSpan.FromMilliseconds(5), () => source.SetException(error));

        var thrown = Assert.Throws<FormatException>(() => loop.RunUntilComplete(source.Task));

        Assert.Same(error, thrown);
    }

    [Fact]
    public void RunUntilCompleteOfACancelledTaskThrowsOperationCanceled()
    {
        EventLoop loop = CreateFakeLoop();
        var source = new TaskCompletionSource<int>();
        loop.CallSoon(() => source.SetCanceled());

        Assert.ThrowsAny<OperationCanceledException>(() => loop.RunUntilComplete(source.Task));
    }

    [Fact]
    public void RunUntilCompleteOfACompletedTaskReturnsWithoutRunningQueuedCallbacks()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _);
        bool ran = false;
        loop.CallSoon(() => ran = true);

        Assert.Equal(7, loop.RunUntilComplete(Task.FromResult(7)));

        Assert.False(ran);
        Assert.Empty(selector.Timeouts);
        loop.RunOnce();
        Assert.True(ran); // it kept its place for the next run
    }

    [Fact]
    public void RunUntilCompleteThrowsWhenTheLoopIsStoppedFirst()
    {
        EventLoop loop = CreateFakeLoop();
        var never = new TaskCompletionSource();
        loop.CallSoon(loop.Stop);

        var e = Assert.Throws<InvalidOperationException>(() => loop.RunUntilComplete(never.Task));

        Assert.Contains("stopped before the task completed", e.Message);
        Assert.False(loop.IsRunning);
    }

    [Fact]
    public void RunStartsMainOnTheLoopAndWaitsForIt()
    {
        EventLoop loop = CreateFakeLoop();
        var steps = new List<string>();

        loop.Run(async () =>
        {
            steps.Add("start");
            Assert.Same(loop, EventLoop.Current);
            await loop.Delay(TimeSpan.FromMilliseconds(10));
            steps.Add("after delay");
        });

        Assert.Equal(["start", "after delay"], steps);
        Assert.Null(EventLoop.Current);
    }

    [Fact]
    public void RunReturnsMainsResultAndRethrowsItsException()
    {
        EventLoop loop = CreateFakeLoop();

        int result = loop.Run(async () =>
        {
            await loop.Delay(TimeSpan.FromMilliseconds(1));
            return 5;
        });
        var e = Assert.Throws<InvalidDataException>(() => loop.Run(async () =>
        {
            await loop.Delay(TimeSpan.FromMilliseconds(1));
            throw new InvalidDataException("main failed");
        }));

        Assert.Equal(5, result);
        Assert.Equal("main failed", e.Message);
    }

    [Fact]
    public void StaticRunCreatesALoopRunsMainAndClosesTheLoop()
    {
        EventLoop? seen = null;
        var clock = new FakeTimeProvider();

        EventLoop.Run(async loop =>
        {
            seen = loop;
            Assert.Same(loop, EventLoop.Current);
            await loop.Delay(TimeSpan.FromMilliseconds(3));
        }, new EventLoopOptions { Selector = new FakeSelector(clock), TimeProvider = clock });

        Assert.NotNull(seen);
        Assert.True(seen!.IsClosed);
    }

    [Fact]
    public async Task AwaitResumesOnTheLoopThread()
    {
        EventLoop loop = CreateRealLoop();
        var threads = new List<int>();
        var contexts = new List<SynchronizationContext?>();
        var loops = new List<EventLoop?>();
        void Observe()
        {
            threads.Add(Environment.CurrentManagedThreadId);
            contexts.Add(SynchronizationContext.Current);
            loops.Add(EventLoop.Current);
        }
        int loopThread = -1;

        await RunOnThreadAsync(() =>
        {
            loopThread = Environment.CurrentManagedThreadId;
            RunBounded(loop, async () =>
            {
                Observe();
                await loop.Delay(TimeSpan.FromMilliseconds(1));
                Observe();
                await Task.Yield();
                Observe();
                await Task.Delay(10); // completes on a thread-pool timer thread
                Observe();
                // Completes on a thread-pool worker, and only once released by the next tick: by then the await
                // below has surely suspended, so its continuation really is sent back from another thread.
                using var release = new ManualResetEventSlim();
                Task worker = Task.Run(() => release.Wait(TestTimeouts.Wait));
                loop.CallSoon(release.Set);
                await worker;
                Observe();
            });
        });

        Assert.Equal(5, threads.Count);
        Assert.All(threads, t => Assert.Equal(loopThread, t));
        Assert.All(contexts, c => Assert.Same(loop, Assert.IsType<EventLoopSynchronizationContext>(c).Loop));
        Assert.All(loops, l => Assert.Same(loop, l));
    }

    [Fact]
    public async Task ATaskCompletedOnAnotherThreadWakesALoopBlockedInSelect()
    {
        EventLoop loop = CreateRealLoop();
        var source = new TaskCompletionSource<int>();
        int result = 0;

        // No timer on this loop: select waits with timeout -1, so only the wake-up can end it.
        Task running = RunOnThreadAsync(() => result = loop.RunUntilComplete(source.Task));
        SpinUntil(() => loop.IsRunning, "the loop to start");
        await Task.Run(() => source.SetResult(42));
        await running;

        Assert.Equal(42, result);
    }

    [Fact]
    public void DelayOfZeroCompletes()
    {
        EventLoop loop = CreateFakeLoop();
        bool done = false;

        RunBounded(loop, async () =>
        {
            await loop.Delay(TimeSpan.Zero);
            await loop.Delay(TimeSpan.FromMilliseconds(-1));
            done = true;
        });

        Assert.True(done);
    }

    [Fact]
    public void DelayCompletesAfterItsDurationOnTheLoopsClock()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _);
        TimeSpan elapsed = default;

        RunBounded(loop, async () =>
        {
            TimeSpan start = loop.Time;
            await loop.Delay(TimeSpan.FromMilliseconds(50));
            elapsed = loop.Time - start;
        });

        Assert.Equal(TimeSpan.FromMilliseconds(50), elapsed);
        Assert.Contains(50, selector.Timeouts);
    }

    [Fact]
    public void DelayWithAnAlreadyCancelledTokenIsCancelledAtOnce()
    {
        EventLoop loop = CreateFakeLoop();
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        ValueTask delay = loop.Delay(TimeSpan.FromHours(1), cts.Token);

        Assert.True(delay.IsCanceled);
    }

    [Fact]
    public void DelayCancelledOnTheLoopThreadThrowsOperationCanceledAndCancelsItsTimer()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _);
        using var cts = new CancellationTokenSource();
        OperationCanceledException? error = null;

        RunBounded(loop, async () =>
        {
            loop.CallLater(TimeSpan.FromMilliseconds(5), cts.Cancel);
            try
            {
                await loop.Delay(TimeSpan.FromHours(1), cts.Token);
            }
            catch (OperationCanceledException e)
            {
                error = e;
            }
        });

        Assert.NotNull(error);
        Assert.Equal(cts.Token, error!.CancellationToken);
        Assert.Equal(TimeSpan.FromMilliseconds(5), loop.Time);
        loop.RunOnce();
        Assert.Equal(-1, selector.LastTimeout); // the hour-long timer went with the cancellation
    }

    [Fact]
    public void DelayCancelledFromAnotherThreadThrowsOperationCanceled()
    {
        EventLoop loop = CreateRealLoop();
        using var cts = new CancellationTokenSource();
        Exception? error = null;

        RunBounded(loop, async () =>
        {
            ValueTask delay = loop.Delay(TimeSpan.FromHours(1), cts.Token);
            _ = Task.Run(cts.Cancel);
            try
            {
                await delay;
            }
            catch (OperationCanceledException e)
            {
                error = e;
            }
        });

        Assert.IsAssignableFrom<OperationCanceledException>(error);
    }

    [Fact]
    public void AStaleCancellationDoesNotCancelTheNextDelay()
    {
        EventLoop loop = CreateFakeLoop();
        using var cts = new CancellationTokenSource();
        bool secondCompleted = false;

        RunBounded(loop, async () =>
        {
            // Due in the same tick, before the delay's own timer: cancel from another thread, which queues the
            // cancellation for the next tick. The delay completes normally in this tick, its pooled operation is
            // reused by the next Delay, and the queued cancellation must not touch that one.
            loop.CallLater(TimeSpan.FromMilliseconds(10), () =>
            {
                var canceller = new Thread(cts.Cancel);
                canceller.Start();
                Assert.True(canceller.Join(TestTimeouts.Wait));
            });
            await loop.Delay(TimeSpan.FromMilliseconds(10), cts.Token);
            await loop.Delay(TimeSpan.FromMilliseconds(10));
            secondCompleted = true;
        });

        Assert.True(secondCompleted);
    }

    [Fact]
    public void AwaitingDelayAllocatesNothingInSteadyState()
    {
        EventLoop loop = CreateRealLoop();
        var windows = new List<long>();

        RunBounded(loop, async () =>
        {
            for (int i = 0; i < 1_000; i++)
            {
                await loop.Delay(TimeSpan.Zero);
            }
            // The least of three windows: a one-off allocation on this thread by the runtime (tiered JIT's
            // promotions, under load on a busy machine) can land in one window, an allocation per await in all.
            for (int window = 0; window < 3; window++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 10_000; i++)
                {
                    await loop.Delay(TimeSpan.Zero);
                }
                windows.Add(GC.GetAllocatedBytesForCurrentThread() - before);
            }
        });

        // Pooled DelayOperation and TimerEntry, struct handles, and a state machine boxed once for the whole loop.
        Assert.True(windows.Min() == 0, $"bytes per window of 10,000 awaits of Delay: {string.Join(", ", windows)}.");
    }

    [Fact]
    public void PostFromTheLoopThreadQueuesInsteadOfRunningInline()
    {
        EventLoop loop = CreateFakeLoop();
        var order = new List<string>();
        loop.CallSoon(() =>
        {
            loop.SynchronizationContext.Post(_ => order.Add("posted"), null);
            order.Add("after post");
        });

        loop.RunOnce();
        Assert.Equal(["after post"], order);
        loop.RunOnce();
        Assert.Equal(["after post", "posted"], order);
    }

    [Fact]
    public async Task SendFromAnotherThreadRunsOnTheLoopAndWaitsForIt()
    {
        EventLoop loop = CreateRealLoop();
        int loopThread = -1;
        int ranOn = -1;
        Exception? sendError = null;
        Task running = RunOnThreadAsync(() =>
        {
            loopThread = Environment.CurrentManagedThreadId;
            loop.CallLater(TestTimeouts.Wait, loop.Stop);
            loop.RunForever();
        });
        SpinUntil(() => loop.IsRunning, "the loop to start");

        await Task.Run(() =>
        {
            loop.SynchronizationContext.Send(_ => ranOn = Environment.CurrentManagedThreadId, null);
            try
            {
                loop.SynchronizationContext.Send(_ => throw new InvalidDataException("from send"), null);
            }
            catch (InvalidDataException e)
            {
                sendError = e;
            }
        });
        loop.Stop();
        await running;

        Assert.Equal(loopThread, ranOn);
        Assert.Equal("from send", sendError?.Message);
        Assert.Same(loop.SynchronizationContext, loop.SynchronizationContext.CreateCopy());
    }
}
