namespace Eddy.Cli.Load;

/// <summary>
/// Failures by kind and cause (an errno name, "no response in time", …). Each loop keeps its own (loop
/// thread only; failures are rare, so a dictionary is fine off the hot path) and the engine merges them
/// once the loops have stopped.
/// </summary>
internal sealed class LoadErrorTally
{
    private readonly Dictionary<(LoadErrorKind Kind, string Cause), long> _counts = [];

    /// <summary>All failures so far. Written by the loop thread; a progress line may read it racily.</summary>
    public long Total;

    public void Count(LoadErrorKind kind, string cause, long count = 1)
    {
        Total += count;
        var key = (kind, cause);
        _counts[key] = _counts.GetValueOrDefault(key) + count;
    }

    /// <summary>Sums the loops' tallies: per kind (indexed by <see cref="LoadErrorKind"/>), and per kind and cause.</summary>
    public static (long[] ByKind, SortedDictionary<string, long>[] Details) Merge(IEnumerable<LoadErrorTally> tallies)
    {
        var byKind = new long[Enum.GetValues<LoadErrorKind>().Length];
        var details = new SortedDictionary<string, long>[byKind.Length];
        for (int k = 0; k < details.Length; k++)
        {
            details[k] = new SortedDictionary<string, long>(StringComparer.Ordinal);
        }
        foreach (LoadErrorTally tally in tallies)
        {
            foreach (var ((kind, cause), count) in tally._counts)
            {
                byKind[(int)kind] += count;
                details[(int)kind][cause] = details[(int)kind].GetValueOrDefault(cause) + count;
            }
        }
        return (byKind, details);
    }

    /// <summary>The merged tallies as the reports write them: every kind by name, and the causes of the kinds that occurred.</summary>
    public static (Dictionary<string, long> ByKind, Dictionary<string, Dictionary<string, long>> Details) ByName(long[] byKind, SortedDictionary<string, long>[] details)
    {
        var kinds = new Dictionary<string, long>();
        var causes = new Dictionary<string, Dictionary<string, long>>();
        foreach (LoadErrorKind kind in Enum.GetValues<LoadErrorKind>())
        {
            kinds[TcpLoadReport.KindName(kind)] = byKind[(int)kind];
            if (details[(int)kind].Count > 0)
            {
                causes[TcpLoadReport.KindName(kind)] = new Dictionary<string, long>(details[(int)kind]);
            }
        }
        return (kinds, causes);
    }
}
