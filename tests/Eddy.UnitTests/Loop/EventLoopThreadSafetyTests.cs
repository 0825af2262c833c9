using Eddy.Loop;
using Eddy.UnitTests.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Eddy.UnitTests.Loop;

/// <summary>
/// The calls other threads may make: CallSoonThreadSafe, Stop, Wakeup. A real selector (epoll, or poll), since
/// the point is waking a loop that is blocked in the kernel. Each loop runs on its own thread and the test waits
/// for it with a timeout.
/// </summary>
public sealed class EventLoopThreadSafetyTests : LoopTestBase
{
    [Fact]
    public async Task CallSoonThreadSafeWakesALoopBlockedInSelect()
    {
        EventLoop loop = CreateRealLoop();
        int ranOn = -1;
        int loopThread = -1;
        var idle = new ManualResetEventSlim();
        loop.CallSoon(idle.Set);
        // No timers: once idle, the loop waits in epoll_wait with timeout -1 and only the wake-up fd can end that.
        Task running = RunOnThreadAsync(() =>
        {
            loopThread = Environment.CurrentManagedThreadId;
            loop.RunForever();
        });
        Assert.True(idle.Wait(TestTimeouts.Wait));

        await Task.Run(() => loop.CallSoonThreadSafe(() =>
        {
            ranOn = Environment.CurrentManagedThreadId;
            loop.Stop();
        }));
        await running;

        Assert.Equal(loopThread, ranOn);
    }

    [Fact]
    public async Task StopFromAnotherThreadStopsRunForever()
    {
        EventLoop loop = CreateRealLoop();
        Task running = RunOnThreadAsync(loop.RunForever);
        SpinUntil(() => loop.IsRunning, "the loop to start");

        await Task.Run(loop.Stop);
        await running;

        Assert.False(loop.IsRunning);
    }

    [Fact]
    public async Task WorkFromManyThreadsAllRunsInEachThreadsOrder()
    {
        EventLoop loop = CreateRealLoop();
        const int Producers = 4;
        const int PerProducer = 2000;
        var seen = new List<(int Producer, int Index)>();
        int remaining = Producers * PerProducer;
        Task running = RunOnThreadAsync(() =>
        {
            loop.CallLater(TimeSpan.FromSeconds(10), loop.Stop);
            loop.RunForever();
        });

        await Task.WhenAll(Enumerable.Range(0, Producers).Select(p => Task.Run(() =>
        {
            for (int i = 0; i < PerProducer; i++)
            {
                loop.CallSoonThreadSafe(s =>
                {
                    seen.Add(((int, int))s!); // loop thread only: no lock
                    if (--remaining == 0)
                    {
                        loop.Stop();
                    }
                }, (p, i));
            }
        })));
        await running;

        Assert.Equal(Producers * PerProducer, seen.Count);
        for (int p = 0; p < Producers; p++)
        {
            Assert.Equal(Enumerable.Range(0, PerProducer), seen.Where(s => s.Producer == p).Select(s => s.Index));
        }
    }

    [Fact]
    public async Task CallSoonThreadSafeBeforeTheLoopRunsIsKeptForTheFirstTick()
    {
        EventLoop loop = CreateRealLoop();
        bool ran = false;
        await Task.Run(() => loop.CallSoonThreadSafe(() =>
        {
            ran = true;
            loop.Stop();
        }));

        await RunOnThreadAsync(loop.RunForever);

        Assert.True(ran);
    }

    [Fact]
    public async Task WakeupFromAnotherThreadMakesALoopBlockedInSelectRunATick()
    {
        // The loop's clock is a manual one: its only timer is an hour away, so the loop blocks in select for an
        // hour of real time. Moving the clock past the deadline is invisible to a blocked select; only a wake-up
        // makes the loop run a tick, look at its clock again, and run the timer.
        var clock = new FakeTimeProvider();
        EventLoop loop = CreateRealLoop(o => o.TimeProvider = clock);
        var idle = new ManualResetEventSlim();
        int timerRanOn = -1;
        int loopThread = -1;
        loop.CallLater(TimeSpan.FromHours(1), () =>
        {
            timerRanOn = Environment.CurrentManagedThreadId;
            loop.Stop();
        });
        loop.CallSoon(idle.Set);
        Task running = RunOnThreadAsync(() =>
        {
            loopThread = Environment.CurrentManagedThreadId;
            loop.RunForever();
        });
        Assert.True(idle.Wait(TestTimeouts.Wait));

        clock.Advance(TimeSpan.FromHours(1));
        await Task.Run(loop.Wakeup);
        await running; // fails after TestTimeouts.Wait if the loop slept on

        Assert.Equal(loopThread, timerRanOn);
    }
}
