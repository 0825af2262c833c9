using HdrHistogram;

namespace Eddy.Cli.Load;

/// <summary>
/// The figures every echo-style report shares (<c>eddy load tcp</c>, <c>eddy load ws</c>): failures by kind and
/// cause, the latency summary, percentiles and distribution, and whether a signal cut the run short. Field names
/// are part of the CLI contract; add fields, never rename.
/// </summary>
internal abstract class LoadFigures
{
    /// <summary>Total failures, all kinds.</summary>
    public long Errors { get; private set; }

    /// <summary>Failures per kind: connect, write, read, mismatch, timeout. Every kind is present.</summary>
    public Dictionary<string, long> ErrorsByKind { get; private set; } = [];

    /// <summary>Failures per kind and cause, e.g. {"connect": {"ECONNREFUSED": 20}}. Only kinds that occurred.</summary>
    public Dictionary<string, Dictionary<string, long>> ErrorDetails { get; private set; } = [];

    public LatencySummary LatencyUs { get; private set; } = new();

    /// <summary>p50, p75, p90, p95, p99, p99.9, p99.99, p99.999 and p100 (the max).</summary>
    public List<PercentileValue> Percentiles { get; private set; } = [];

    /// <summary>The full percentile distribution, as HdrHistogram's percentile output lists it.</summary>
    public List<DistributionPoint> Distribution { get; private set; } = [];

    /// <summary>True when a signal stopped the run early: the figures cover the time until then.</summary>
    public bool Interrupted { get; private set; }

    /// <summary>Sets these figures from the merged tallies and latency histogram of a run.</summary>
    public void SetFigures(long[] errorsByKind, SortedDictionary<string, long>[] errorDetails, HistogramBase latency, bool interrupted)
    {
        (ErrorsByKind, ErrorDetails) = LoadErrorTally.ByName(errorsByKind, errorDetails);
        Errors = errorsByKind.Sum();
        LatencyUs = LatencySummary.From(latency);
        Percentiles = LatencyPercentiles.Ladder(latency);
        Distribution = LatencyPercentiles.Distribution(latency);
        Interrupted = interrupted;
    }
}
