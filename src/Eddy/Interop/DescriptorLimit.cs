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
}
