using Eddy.Selectors;

namespace Eddy.Loop.Internal;

/// <summary>
/// The loop's record of one descriptor: its reader and writer callbacks. It is the data of the fd's
/// <see cref="SelectorKey"/>. A reader or writer may be disarmed lazily (callback cleared, interest kept):
/// the next readiness event with no callback removes the interest. Socket awaitables use that so a
/// connection that reads in a loop costs no epoll_ctl per read. Loop thread only.
/// </summary>
internal sealed class FdWatcher(int fd)
{
    public readonly int Fd = fd;

    public Action<object?>? Reader;
    public object? ReaderState;
    public Action<object?>? Writer;
    public object? WriterState;

    /// <summary>What the selector currently watches for this fd (may include a lazily disarmed side).</summary>
    public Interest Registered;

    /// <summary>True while the selector holds this watcher's registration; a watcher may be registered again later.</summary>
    public bool IsRegistered;

    public Interest Wanted => (Reader is not null ? Interest.Read : 0) | (Writer is not null ? Interest.Write : 0);
}
