namespace Eddy.Transports;

/// <summary>
/// A cap on the live connections of one or more servers (for example every loop's listener of a
/// <see cref="GroupServer"/>, which share one limit). A server that is at the cap accepts each new connection
/// and closes it at once, and counts it in <see cref="Refused"/>. Thread-safe.
/// </summary>
public sealed class ConnectionLimit
{
    private long _count;
    private long _refused;

    /// <param name="max">The most connections open at once; at least 1.</param>
    public ConnectionLimit(long max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        Max = max;
    }

    /// <summary>The most connections open at once.</summary>
    public long Max { get; }

    /// <summary>Connections open now under this limit.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Connections closed on arrival because the limit was reached.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Takes a slot for a new connection; false (and counted as refused) when none is free.</summary>
    internal bool TryAcquire()
    {
        if (Interlocked.Increment(ref _count) <= Max)
        {
            return true;
        }
        Interlocked.Decrement(ref _count);
        Interlocked.Increment(ref _refused);
        return false;
    }

    internal void Release() => Interlocked.Decrement(ref _count);
}
