using System.Diagnostics.Metrics;

namespace Eddy.Loop.Internal;

/// <summary>
/// The loop's instruments, in the meter "Eddy.Loop". Static, like the loops' own clocks: a loop has no host to
/// ask for an <see cref="IMeterFactory"/>; each measurement carries the loop's name.
/// </summary>
internal static class LoopMetrics
{
    public const string MeterName = "Eddy.Loop";

    public static readonly Meter Meter = new(MeterName);

    /// <summary>Node's monitorEventLoopDelay: how late a timer ran after it was due, sampled on each loop.</summary>
    public static readonly Histogram<double> Lag = Meter.CreateHistogram<double>(
        "eddy.loop.lag", unit: "s", description: "How late a timer callback ran after it was due, sampled periodically on each event loop.");
}
