namespace Eddy.Loop.Internal;

/// <summary>
/// A scheduled callback in the loop's timer heap. Entries are pooled: <see cref="Version"/> goes up each
/// time one is recycled, so a stale <see cref="TimerHandle"/> cannot cancel the entry's next use.
/// </summary>
internal sealed class TimerEntry
{
    /// <summary>Deadline as a <see cref="TimeProvider"/> timestamp. Set when scheduled.</summary>
    public long Deadline;

    /// <summary>Scheduling order, so equal deadlines run in the order they were scheduled.</summary>
    public long Sequence;

    public object? Callback;
    public object? State;
    public int Version;
    public bool IsCancelled;

    /// <summary>True from scheduling until the callback runs or the entry is dropped after a cancel.</summary>
    public bool IsScheduled;
}
