using System.Globalization;
using System.Text;
using HdrHistogram;

namespace Eddy.Cli.Load;

/// <summary>Latency in microseconds. Values are HdrHistogram buckets: within 0.1% of the recorded value.</summary>
internal sealed class LatencySummary
{
    public long P50 { get; init; }

    public long P90 { get; init; }

    public long P99 { get; init; }

    public long P999 { get; init; }

    public long Max { get; init; }

    public double Mean { get; init; }

    public double StdDev { get; init; }

    /// <summary>All zeros for an empty histogram (nothing was measured).</summary>
    public static LatencySummary From(HistogramBase histogram)
    {
        if (histogram.TotalCount == 0)
        {
            return new LatencySummary();
        }
        return new LatencySummary
        {
            P50 = histogram.GetValueAtPercentile(50),
            P90 = histogram.GetValueAtPercentile(90),
            P99 = histogram.GetValueAtPercentile(99),
            P999 = histogram.GetValueAtPercentile(99.9),
            Max = histogram.GetMaxValue(),
            Mean = Math.Round(histogram.GetMean(), 1),
            StdDev = Math.Round(histogram.GetStdDeviation(), 1),
        };
    }
}

/// <summary>The latency at one percentile, in microseconds.</summary>
internal sealed record PercentileValue(double Percentile, long ValueUs);

/// <summary>One step of the full distribution: <see cref="Count"/> samples were at most <see cref="ValueUs"/>, that is <see cref="Percentile"/>% of them.</summary>
internal sealed record DistributionPoint(double Percentile, long ValueUs, long Count);

/// <summary>Percentiles of a latency histogram, for the reports, the JSON and the HTML plot.</summary>
internal static class LatencyPercentiles
{
    /// <summary>The ladder printed and written to JSON: wrk's four and the tail beyond.</summary>
    private static readonly double[] PercentileLadder = [50, 75, 90, 95, 99, 99.9, 99.99, 99.999, 100];

    /// <summary>Iteration steps per halving of the distance to 100%: HdrHistogram's default for its percentile output (and its plotter's input).</summary>
    private const int TicksPerHalfDistance = 5;

    public static List<PercentileValue> Ladder(HistogramBase histogram)
    {
        var values = new List<PercentileValue>(PercentileLadder.Length);
        foreach (double p in PercentileLadder)
        {
            values.Add(new PercentileValue(p, histogram.TotalCount > 0 ? histogram.GetValueAtPercentile(p) : 0));
        }
        return values;
    }

    /// <summary>
    /// The full distribution, as <c>HistogramBase.OutputPercentileDistribution</c> prints it: steps that get
    /// closer together towards 100%, so the tail is resolved (p99.99 and beyond) without listing every bucket.
    /// </summary>
    public static List<DistributionPoint> Distribution(HistogramBase histogram)
    {
        var points = new List<DistributionPoint>();
        if (histogram.TotalCount == 0)
        {
            return points;
        }
        foreach (var step in histogram.Percentiles(TicksPerHalfDistance))
        {
            points.Add(new DistributionPoint(
                Math.Round(step.PercentileLevelIteratedTo, 6),
                histogram.HighestEquivalentValue(step.ValueIteratedTo),
                step.TotalCountToThisValue));
        }
        return points;
    }

    /// <summary>A latency for people: "812 µs", "1.23 ms", "2.50 s".</summary>
    public static string Format(double microseconds) => microseconds switch
    {
        < 1_000 => microseconds.ToString("0", CultureInfo.InvariantCulture) + " µs",
        < 1_000_000 => (microseconds / 1_000).ToString("0.00", CultureInfo.InvariantCulture) + " ms",
        _ => (microseconds / 1_000_000).ToString("0.00", CultureInfo.InvariantCulture) + " s",
    };

    /// <summary>wrk's "Latency Distribution" block, with the tail beyond p99.</summary>
    public static void AppendTable(StringBuilder output, List<PercentileValue> ladder, string indent)
    {
        foreach (PercentileValue p in ladder)
        {
            string label = p.Percentile == 100 ? "100% (max)" : p.Percentile.ToString("0.###", CultureInfo.InvariantCulture) + "%";
            output.Append(indent).Append(label.PadLeft(11)).Append("  ").AppendLine(Format(p.ValueUs));
        }
    }
}
