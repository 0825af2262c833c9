using System.Diagnostics.Metrics;
using Eddy.Loop.Internal;

namespace Eddy.Loop;

// The loop's health, cheap enough for production: lag sampled by a timer on the loop's own clock (Node's
// monitorEventLoopDelay), and a watchdog on another thread that notices a tick running too long (asyncio's
// slow_callback_duration, without debug mode's clock read per callback).
public sealed partial class EventLoop
{
    private readonly KeyValuePair<string, object?> _nameTag;   // set once in the constructor
    private readonly long _lagInterval;                        // timestamp ticks; 0 when lag is not sampled
    private long _lagDue;                                      // loop thread only

    private readonly ITimer? _watchdogTimer;                   // null when the watchdog is off
    private readonly TimeSpan _watchdogThreshold;
    private long _busySince;        // when the current tick's callbacks began (0 while selecting); read by the watchdog
    private long _watchdogReported; // the _busySince already warned about: one warning per blocked tick (watchdog thread)
    private object? _activity;      // what the loop is running, for the warning (an HTTP request); loop thread writes

    /// <summary>
    /// Names what the loop thread is about to run (the HTTP layer passes the request it hands to a handler) so a
    /// watchdog warning can say where the loop blocked; null when it is done. Loop thread only; a field write.
    /// </summary>
    internal void SetActivity(object? activity) => _activity = activity;

    private static readonly Action<object?> s_onLagSample = static s => ((EventLoop)s!).OnLagSample();

    private void StartLagSampling()
    {
        _lagDue = _time.GetTimestamp() + _lagInterval;
        Schedule(_lagDue, s_onLagSample, this);
    }

    private void OnLagSample()
    {
        long now = _time.GetTimestamp();
        Histogram<double> lag = LoopMetrics.Lag;
        if (lag.Enabled)
        {
            // The select timeout is rounded up to whole milliseconds, so an idle loop reads up to ~1 ms (Node's does too).
            lag.Record((double)Math.Max(0, now - _lagDue) / _time.TimestampFrequency, _nameTag);
        }
        _lagDue = now + _lagInterval;
        Schedule(_lagDue, s_onLagSample, this);
    }

    /// <summary>Called by RunOnce before select (busy = false) and after it (busy = true); only when the watchdog is on.</summary>
    private void MarkBusy(bool busy) => Volatile.Write(ref _busySince, busy ? _time.GetTimestamp() : 0);

    /// <summary>The watchdog's timer, on a thread-pool thread (or the test's, with a manual clock).</summary>
    private void OnWatchdog()
    {
        long since = Volatile.Read(ref _busySince);
        if (since == 0 || since == _watchdogReported)
        {
            return;
        }
        TimeSpan blocked = _time.GetElapsedTime(since);
        if (blocked < _watchdogThreshold)
        {
            return;
        }
        _watchdogReported = since;
        // The activity may change under us once the loop moves on; the reference read is atomic and what it
        // names is immutable text or a request object whose description reads immutable strings.
        string what = Volatile.Read(ref _activity) is { } activity ? $" running {Describe(activity)}" : "";
        LogWarning($"the loop has been blocked for {blocked.TotalMilliseconds:F0} ms{what} (threshold {_watchdogThreshold.TotalMilliseconds:F0} ms); a callback is doing blocking or CPU-heavy work on the loop thread");
    }

    private static string Describe(object activity)
    {
        try
        {
            return activity.ToString() ?? activity.GetType().Name;
        }
        catch (Exception)
        {
            return activity.GetType().Name; // a warning must not fail because a description raced with the loop
        }
    }

    private static ITimer? CreateWatchdog(EventLoop loop, EventLoopOptions options)
    {
        if (options.WatchdogThreshold is not { } threshold)
        {
            return null;
        }
        // Checking four times per threshold reports a block at most a quarter-threshold late.
        TimeSpan period = threshold / 4;
        return loop._time.CreateTimer(static s => ((EventLoop)s!).OnWatchdog(), loop, period, period);
    }

    private static long LagInterval(EventLoopOptions options, TimeProvider time) =>
        options.LagSampleInterval is { } interval ? Math.Max(1, (long)(interval.TotalSeconds * time.TimestampFrequency)) : 0;
}
