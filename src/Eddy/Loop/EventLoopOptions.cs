using Eddy.Selectors;
using Microsoft.Extensions.Logging;

namespace Eddy.Loop;

/// <summary>How to build an <see cref="EventLoop"/>. Every property has a working default.</summary>
public sealed class EventLoopOptions
{
    /// <summary>The selector to drive; the loop takes ownership. Default: <see cref="Selector.Create"/> (epoll).</summary>
    public Selector? Selector { get; set; }

    /// <summary>The clock for timers. Default: <see cref="TimeProvider.System"/> (monotonic). Tests pass a manual one.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Where the default exception handler and debug mode write. Default: standard error.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>Debug mode: checks that loop-only calls come from the loop thread, and reports slow callbacks.</summary>
    public bool Debug { get; set; }

    /// <summary>In debug mode, a callback that runs longer than this is reported (asyncio's slow_callback_duration).</summary>
    public TimeSpan SlowCallbackDuration { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A name for logs and the loop thread.</summary>
    public string? Name { get; set; }

    /// <summary>
    /// How often to sample the loop's lag — how late a timer runs after it was due — into the histogram
    /// <c>eddy.loop.lag</c> (meter "Eddy.Loop", tagged with <see cref="Name"/>); null (the default) samples nothing.
    /// A sample is one timer on the loop; it records only while someone listens to the meter. 10 ms is Node's default.
    /// </summary>
    public TimeSpan? LagSampleInterval
    {
        get;
        set => field = value is { } v && v <= TimeSpan.Zero ? throw new ArgumentOutOfRangeException(nameof(value), v, "A lag sample interval is positive.") : value;
    }

    /// <summary>
    /// The watchdog: a tick of the loop that runs longer than this — a callback blocking the loop thread — is logged
    /// as a warning while it is still running, naming the HTTP route whose handler runs, if one does. Null (the
    /// default) turns it off. It costs a clock read per tick on the loop and a check on a timer thread four times
    /// per threshold (asyncio's slow_callback_duration, which needs debug mode, is 100 ms).
    /// </summary>
    public TimeSpan? WatchdogThreshold
    {
        get;
        set => field = value is { } v && v <= TimeSpan.Zero ? throw new ArgumentOutOfRangeException(nameof(value), v, "A watchdog threshold is positive.") : value;
    }
}
