using Eddy.Loop;

namespace Eddy.UnitTests.Loop;

/// <summary>
/// The calls other threads may make: CallSoonThreadSafe, Stop, Wakeup. A real epoll loop and the real clock,
/// since the point is waking a loop that is blocked in epoll_wait. Each loop runs on its own thread and the
/// test waits for it with a timeout.
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
        Assert.True(idle.Wait(TimeSpan.FromSeconds(10)));

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
    public async Task WakeupFromAnotherThreadMakesTheLoopRunATickWithoutWork()
    {
        EventLoop loop = CreateRealLoop();
        Task running = RunOnThreadAsync(loop.RunForever);
        SpinUntil(() => loop.IsRunning, "the loop to start");

        for (int i = 0; i < 3; i++)
        {
            await Task.Run(loop.Wakeup);
        }
        await Task.Run(loop.Stop);
        await running;
    }
}
