namespace Eddy.Interop;

/// <summary>The process's limit on open file descriptors (RLIMIT_NOFILE, getrlimit(2)): each connection costs one.</summary>
internal static unsafe class DescriptorLimit
{
    /// <summary>
    /// Raises the soft limit to the hard one (no privilege needed) and returns the soft limit now in force.
    /// The .NET runtime usually did this already at startup; a server calls it anyway so the limit it reports is true.
    /// </summary>
    public static ulong RaiseToHardLimit()
    {
        Libc.RLimit limit;
        if (Libc.GetRLimit(Libc.RLIMIT_NOFILE, &limit) != 0)
        {
            Libc.ThrowFor("getrlimit");
        }
        if (limit.Current < limit.Maximum)
        {
            limit.Current = limit.Maximum;
            if (Libc.SetRLimit(Libc.RLIMIT_NOFILE, &limit) != 0)
            {
                Libc.ThrowFor("setrlimit");
            }
        }
        return limit.Current;
    }

    private static long s_current;  // the soft limit last read (0: never read)
    private static long s_readAtMs; // Environment.TickCount64 when it was read

    /// <summary>
    /// The soft limit in force now, re-read with getrlimit at most once a second, or at once with
    /// <paramref name="refresh"/>: another process can lower it while this one runs (prlimit(1)), and a server that
    /// trusted the value it saw at start would give away the last descriptors the runtime needs. Any thread.
    /// </summary>
    public static ulong Current(bool refresh = false)
    {
        long now = Environment.TickCount64;
        long current = Volatile.Read(ref s_current);
        if (refresh || current == 0 || now - Volatile.Read(ref s_readAtMs) >= 1000)
        {
            Libc.RLimit limit;
            if (Libc.GetRLimit(Libc.RLIMIT_NOFILE, &limit) != 0)
            {
                Libc.ThrowFor("getrlimit");
            }
            current = limit.Current > long.MaxValue ? long.MaxValue : (long)limit.Current;
            Volatile.Write(ref s_current, current);
            Volatile.Write(ref s_readAtMs, now);
        }
        return (ulong)current;
    }
}
