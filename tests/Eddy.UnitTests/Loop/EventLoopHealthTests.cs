using Eddy.Loop;
using Eddy.Loop.Internal;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Eddy.UnitTests.Loop;

/// <summary>
/// The loop's health on a manual clock: a callback "blocks" by moving the clock, which also runs the watchdog's
/// timer (a <see cref="FakeTimeProvider"/> fires due timers inside <c>Advance</c>), so nothing sleeps.
/// </summary>
public sealed class EventLoopHealthTests : LoopTestBase
{
    [Fact]
    public void WatchdogWarnsWhileACallbackBlocksTheLoopAndNamesWhatRuns()
    {
        var logger = new TestLogger();
        EventLoop loop = CreateFakeLoop(out _, out FakeTimeProvider clock, advanceClock: false, options =>
        {
            options.Logger = logger;
            options.WatchdogThreshold = TimeSpan.FromMilliseconds(100);
        });
        loop.CallSoon(() =>
        {
            loop.SetActivity("GET /slow/{ms}");
            clock.Advance(TimeSpan.FromMilliseconds(300)); // the callback blocks the loop for 300 ms
            loop.SetActivity(null);
            loop.Stop();
        });

        loop.RunForever();

        LogEntry warning = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("blocked for 300 ms running GET /slow/{ms}", warning.Message);
        Assert.Contains("threshold 100 ms", warning.Message);
    }

    [Fact]
    public void WatchdogStaysQuietForQuickTicksAndWhileTheLoopWaitsOrIsStopped()
    {
        var logger = new TestLogger();
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out FakeTimeProvider clock, advanceClock: false, options =>
        {
            options.Logger = logger;
            options.WatchdogThreshold = TimeSpan.FromMilliseconds(100);
        });
        int selects = 0;
        selector.OnSelect = () =>
        {
            if (++selects == 2)
            {
                clock.Advance(TimeSpan.FromSeconds(1)); // a long wait in select is idleness, not a block
            }
        };
        loop.CallSoon(() => clock.Advance(TimeSpan.FromMilliseconds(60))); // under the threshold
        loop.CallLater(TimeSpan.FromMilliseconds(500), () => loop.Stop());

        loop.RunForever();
        clock.Advance(TimeSpan.FromSeconds(1)); // a stopped loop is not blocked either

        Assert.Empty(logger.Entries);
        Assert.True(selects >= 2);
    }

    [Fact]
    public void WatchdogWarnsOncePerBlockedTick()
    {
        var logger = new TestLogger();
        EventLoop loop = CreateFakeLoop(out _, out FakeTimeProvider clock, advanceClock: false, options =>
        {
            options.Logger = logger;
            options.WatchdogThreshold = TimeSpan.FromMilliseconds(100);
        });
        loop.CallSoon(() =>
        {
            for (int i = 0; i < 10; i++)
            {
                clock.Advance(TimeSpan.FromMilliseconds(100)); // one block, seen by the watchdog many times
            }
            loop.CallSoon(() =>
            {
                clock.Advance(TimeSpan.FromMilliseconds(200)); // the next tick blocks again: a second warning
                loop.Stop();
            });
        });

        loop.RunForever();

        Assert.Equal(2, logger.Entries.Count);
        Assert.Contains("blocked for 100 ms", logger.Entries[0].Message); // said as soon as it was seen, not again
        Assert.DoesNotContain("running", logger.Entries[0].Message); // no activity was named
        Assert.Contains("blocked for 200 ms", logger.Entries[1].Message);
    }

    [Fact]
    public void LagIsHowLateTheSampleTimerRanTaggedWithTheLoopsName()
    {
        string name = $"lag-loop-{Guid.NewGuid():N}";
        using var lag = new MetricCollector<double>(LoopMetrics.Lag);
        EventLoop loop = CreateFakeLoop(out _, out FakeTimeProvider clock, advanceClock: true, options =>
        {
            options.Name = name;
            options.LagSampleInterval = TimeSpan.FromMilliseconds(10);
        });
        // Samples are due at 10, 20, 30 ms… A callback at 15 ms blocks for 40 ms: the sample due at 20 runs at 55.
        loop.CallLater(TimeSpan.FromMilliseconds(15), () => clock.Advance(TimeSpan.FromMilliseconds(40)));
        loop.CallLater(TimeSpan.FromMilliseconds(100), () => loop.Stop());

        loop.RunForever();

        double[] samples = [.. lag.GetMeasurementSnapshot()
            .Where(m => Equals(m.Tags["eddy.loop.name"], name))
            .Select(m => m.Value)];
        Assert.True(samples.Length >= 5, $"{samples.Length} samples");
        Assert.Equal(0.035, samples.Max(), precision: 6);
        Assert.Equal(1, samples.Count(s => s > 0)); // on a manual clock every other sample runs exactly on time
    }

    [Fact]
    public void WithoutALagIntervalTheLoopSchedulesNoSampleTimer()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _, advanceClock: true);
        loop.CallSoon(() => loop.CallSoon(() => loop.Stop()));

        loop.RunForever();

        Assert.DoesNotContain(selector.Timeouts, t => t > 0); // nothing timed: the loop never waited for a timer
    }
}
