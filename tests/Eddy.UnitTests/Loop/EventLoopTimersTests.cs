using System.Reflection;
using Eddy.Loop;
using Microsoft.Extensions.Time.Testing;

namespace Eddy.UnitTests.Loop;

/// <summary>CallLater, CallAt, TimerHandle and the select timeout the loop derives from its timers. Manual clock throughout.</summary>
public sealed class EventLoopTimersTests : LoopTestBase
{
    private static readonly TimeSpan OneTick = TimeSpan.FromTicks(1);

    [Fact]
    public void TimersRunInDeadlineOrder()
    {
        EventLoop loop = CreateFakeLoop();
        var order = new List<string>();
        loop.CallLater(TimeSpan.FromMilliseconds(30), s => order.Add((string)s!), "30 ms");
        loop.CallLater(TimeSpan.FromMilliseconds(10), s => order.Add((string)s!), "10 ms");
        loop.CallLater(TimeSpan.FromMilliseconds(20), s => order.Add((string)s!), "20 ms");
        loop.CallLater(TimeSpan.FromMilliseconds(30), () => loop.Stop());

        loop.RunForever();

        Assert.Equal(["10 ms", "20 ms", "30 ms"], order);
        Assert.Equal(TimeSpan.FromMilliseconds(30), loop.Time);
    }

    [Fact]
    public void TimersWithEqualDeadlinesRunInSchedulingOrder()
    {
        EventLoop loop = CreateFakeLoop();
        var order = new List<int>();
        for (int i = 0; i < 20; i++)
        {
            loop.CallLater(TimeSpan.FromMilliseconds(5), s => order.Add((int)s!), i);
        }
        loop.CallAt(TimeSpan.FromMilliseconds(5), s => order.Add((int)s!), 20);

        loop.RunOnce(); // waits 5 ms (the fake selector moves the clock), then runs all of them

        Assert.Equal(Enumerable.Range(0, 21), order);
    }

    [Fact]
    public void ATimerNeverRunsBeforeItsDeadline()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out FakeTimeProvider clock, advanceClock: false);
        bool ran = false;
        loop.CallLater(TimeSpan.FromMilliseconds(10), () => ran = true);

        loop.RunOnce();
        Assert.False(ran);
        Assert.Equal(10, selector.LastTimeout);

        clock.Advance(TimeSpan.FromMilliseconds(10) - OneTick);
        loop.RunOnce();
        Assert.False(ran);
        Assert.Equal(1, selector.LastTimeout); // one tick left, rounded up to a whole millisecond

        clock.Advance(OneTick);
        loop.RunOnce();
        Assert.True(ran);
        Assert.Equal(0, selector.LastTimeout);
    }

    [Fact]
    public void CallAtRunsAtTheGivenTimeOnTheLoopsClock()
    {
        EventLoop loop = CreateFakeLoop(out _, out FakeTimeProvider clock, advanceClock: false);
        clock.Advance(TimeSpan.FromMilliseconds(100));
        TimeSpan ranAt = TimeSpan.MinValue;
        TimerHandle timer = loop.CallAt(loop.Time + TimeSpan.FromMilliseconds(50), _ => ranAt = loop.Time, null);
        Assert.Equal(TimeSpan.FromMilliseconds(150), timer.When);

        clock.Advance(TimeSpan.FromMilliseconds(49));
        loop.RunOnce();
        Assert.Equal(TimeSpan.MinValue, ranAt);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        loop.RunOnce();
        Assert.Equal(TimeSpan.FromMilliseconds(150), ranAt);
    }

    [Fact]
    public void ATimeInThePastOrAZeroDelayRunsInTheNextTick()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out FakeTimeProvider clock, advanceClock: false);
        clock.Advance(TimeSpan.FromSeconds(1));
        var order = new List<string>();
        loop.CallLater(TimeSpan.Zero, () => order.Add("zero"));
        loop.CallLater(TimeSpan.FromSeconds(-5), () => order.Add("negative"));
        loop.CallAt(TimeSpan.Zero, _ => order.Add("past"), null);

        loop.RunOnce();

        Assert.Equal(0, selector.LastTimeout);
        Assert.Equal(3, order.Count);
    }

    [Fact]
    public void ExpiredTimersRunAfterTheCallbacksAlreadyQueued()
    {
        EventLoop loop = CreateFakeLoop();
        var order = new List<string>();
        loop.CallLater(TimeSpan.Zero, () => order.Add("timer"));
        loop.CallSoon(() => order.Add("soon"));

        loop.RunOnce();

        Assert.Equal(["soon", "timer"], order);
    }

    [Fact]
    public void CancellingATimerKeepsItFromRunning()
    {
        EventLoop loop = CreateFakeLoop();
        bool ran = false;
        TimerHandle timer = loop.CallLater(TimeSpan.FromMilliseconds(5), () => ran = true);
        Assert.True(timer.IsPending);

        timer.Cancel();
        timer.Cancel(); // idempotent

        Assert.False(timer.IsPending);
        Assert.Equal(TimeSpan.Zero, timer.When);
        loop.CallLater(TimeSpan.FromMilliseconds(10), () => loop.Stop());
        loop.RunForever();
        Assert.False(ran);
    }

    [Fact]
    public void CancelAfterTheTimerRanDoesNothing()
    {
        EventLoop loop = CreateFakeLoop();
        int runs = 0;
        bool pendingWhileRunning = true;
        TimerHandle timer = default;
        timer = loop.CallLater(TimeSpan.FromMilliseconds(1), () =>
        {
            runs++;
            pendingWhileRunning = timer.IsPending;
        });

        loop.RunOnce();
        Assert.Equal(1, runs);
        Assert.False(pendingWhileRunning);
        Assert.False(timer.IsPending);

        timer.Cancel();
        loop.RunOnce();
        Assert.Equal(1, runs);
    }

    [Fact]
    public void AStaleHandleCannotCancelTheTimerThatReusedItsEntry()
    {
        EventLoop loop = CreateFakeLoop();
        TimerHandle first = loop.CallLater(TimeSpan.FromMilliseconds(1), () => { });
        loop.RunOnce();
        bool secondRan = false;
        TimerHandle second = loop.CallLater(TimeSpan.FromMilliseconds(1), () => secondRan = true); // reuses the pooled entry

        first.Cancel();

        Assert.True(second.IsPending);
        loop.RunOnce();
        Assert.True(secondRan);
    }

    [Fact]
    public void ATimerCancelledByAnEarlierCallbackOfTheSameTickDoesNotRun()
    {
        EventLoop loop = CreateFakeLoop();
        bool secondRan = false;
        TimerHandle second = default;
        loop.CallLater(TimeSpan.FromMilliseconds(5), () => second.Cancel());
        second = loop.CallLater(TimeSpan.FromMilliseconds(5), () => secondRan = true);

        loop.RunOnce(); // both expire in this tick; the first cancels the second before its turn

        Assert.False(secondRan);
        Assert.False(second.IsPending);
    }

    [Fact]
    public void TheDefaultHandleIsNotPendingAndCancelsNothing()
    {
        TimerHandle handle = default;

        Assert.False(handle.IsPending);
        Assert.Equal(TimeSpan.Zero, handle.When);
        handle.Cancel();
    }

    [Fact]
    public void WhenIsTheDeadlineOnTheLoopsClock()
    {
        EventLoop loop = CreateFakeLoop(out _, out FakeTimeProvider clock, advanceClock: false);
        clock.Advance(TimeSpan.FromSeconds(3));

        TimerHandle timer = loop.CallLater(TimeSpan.FromMilliseconds(250), () => { });

        Assert.Equal(TimeSpan.FromMilliseconds(3250), timer.When);
    }

    [Theory]
    [InlineData(10_000, 1)] // 1 ms
    [InlineData(15_000, 2)] // 1.5 ms rounds up
    [InlineData(1, 1)] // a single tick still waits a whole ms: select must not return before the timer is due
    [InlineData(100_000_000, 10_000)] // 10 s
    public void TheSelectTimeoutIsTheTimeToTheNextTimerRoundedUpToWholeMilliseconds(long ticks, int expectedMs)
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _, advanceClock: false);
        loop.CallLater(TimeSpan.FromTicks(ticks * 2), () => { });
        loop.CallLater(TimeSpan.FromTicks(ticks), () => { });

        loop.RunOnce();

        Assert.Equal(expectedMs, selector.LastTimeout);
    }

    [Fact]
    public void TheSelectTimeoutIsZeroWhenWorkIsReadyAndMinusOneWhenIdle()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _, advanceClock: false);

        loop.RunOnce();
        Assert.Equal(-1, selector.LastTimeout);

        loop.CallLater(TimeSpan.FromSeconds(1), () => { });
        loop.CallSoon(() => { });
        loop.RunOnce();
        Assert.Equal(0, selector.LastTimeout);

        loop.RunOnce();
        Assert.Equal(1000, selector.LastTimeout);
    }

    [Fact]
    public void ACancelledTimerNoLongerShortensTheSelectTimeout()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _, advanceClock: false);
        TimerHandle soon = loop.CallLater(TimeSpan.FromMilliseconds(5), () => { });
        loop.CallLater(TimeSpan.FromMilliseconds(50), () => { });

        soon.Cancel();
        loop.RunOnce();

        Assert.Equal(50, selector.LastTimeout);

        loop.CallLater(TimeSpan.FromMilliseconds(5), () => { }).Cancel();
        loop.RunOnce();
        Assert.Equal(50, selector.LastTimeout);
    }

    [Fact]
    public void AVeryDistantTimerWaitsAtMostIntMaxValueMilliseconds()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _, advanceClock: false);
        loop.CallLater(TimeSpan.FromDays(30), () => { });

        loop.RunOnce();

        Assert.Equal(int.MaxValue, selector.LastTimeout);
    }

    [Fact]
    public void ManyCancelledTimersAreDroppedSoTheHeapDoesNotGrowWithoutBound()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _, advanceClock: true);
        var order = new List<string>();
        loop.CallLater(TimeSpan.FromMilliseconds(2), () => order.Add("second"));
        loop.CallLater(TimeSpan.FromMilliseconds(1), () => order.Add("first"));

        for (int i = 0; i < 10_000; i++)
        {
            loop.CallLater(TimeSpan.FromHours(1) + TimeSpan.FromMilliseconds(i), () => order.Add("cancelled")).Cancel();
            Assert.True(TimerHeapCount(loop) <= 2 + 101, $"After {i + 1} cancels the heap holds {TimerHeapCount(loop)} entries.");
        }

        loop.CallLater(TimeSpan.FromMilliseconds(3), () => order.Add("third"));
        loop.RunOnce();
        loop.RunOnce();
        loop.RunOnce();

        Assert.Equal(["first", "second", "third"], order);
        Assert.Equal([1, 1, 1], selector.Timeouts);
        Assert.True(TimerHeapCount(loop) <= 101);
    }

    [Fact]
    public void ATimerCallbackCanScheduleAnotherTimer()
    {
        EventLoop loop = CreateFakeLoop();
        var times = new List<TimeSpan>();
        void Tick()
        {
            times.Add(loop.Time);
            if (times.Count < 5)
            {
                loop.CallLater(TimeSpan.FromMilliseconds(10), Tick);
            }
            else
            {
                loop.Stop();
            }
        }
        loop.CallLater(TimeSpan.FromMilliseconds(10), Tick);

        loop.RunForever();

        Assert.Equal(Enumerable.Range(1, 5).Select(i => TimeSpan.FromMilliseconds(10 * i)), times);
    }

    [Fact]
    public void CallLaterRejectsANullCallback()
    {
        EventLoop loop = CreateFakeLoop();

        Assert.Throws<ArgumentNullException>(() => loop.CallLater(TimeSpan.Zero, (Action)null!));
        Assert.Throws<ArgumentNullException>(() => loop.CallLater(TimeSpan.Zero, null!, null));
        Assert.Throws<ArgumentNullException>(() => loop.CallAt(TimeSpan.Zero, null!, null));
    }

    /// <summary>How many entries (live and cancelled) the loop's timer heap holds: an internal invariant, read by reflection.</summary>
    private static int TimerHeapCount(EventLoop loop)
    {
        object heap = typeof(EventLoop).GetField("_timers", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(loop)!;
        return (int)heap.GetType().GetProperty("Count")!.GetValue(heap)!;
    }
}
