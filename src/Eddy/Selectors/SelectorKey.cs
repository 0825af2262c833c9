namespace Eddy.Selectors;

/// <summary>
/// One registration in a <see cref="Selector"/>: the descriptor, what it waits for and the caller's data.
/// The selector owns it; <c>Selector.Modify</c> updates it in place, so a key never allocates after
/// <see cref="Selector.Register"/>. Once unregistered it is never returned by <see cref="Selector.Select"/> again.
/// </summary>
public sealed class SelectorKey
{
    internal SelectorKey(int fd, Interest interest, object? data, uint generation)
    {
        Fd = fd;
        Interest = interest;
        Data = data;
        Generation = generation;
    }

    /// <summary>The registered descriptor. Set once.</summary>
    public int Fd { get; }

    /// <summary>The events this registration waits for.</summary>
    public Interest Interest { get; internal set; }

    /// <summary>The caller's object: a callback, a connection, anything.</summary>
    public object? Data { get; internal set; }

    /// <summary>False once unregistered (or the selector closed).</summary>
    public bool IsRegistered { get; internal set; } = true;

    /// <summary>Tells this registration from an earlier one of the same fd number (epoll reports by number).</summary>
    internal uint Generation { get; }

    /// <summary>PollSelector only: this key's slot in the pollfd array.</summary>
    internal int PollIndex { get; set; } = -1;

    /// <summary>IoUringSelector only: the serial number of this key's armed poll request; 0 when none is armed.</summary>
    internal uint UringSerial { get; set; }

    /// <summary>For logs: the fd, the interest, and whether it is still registered.</summary>
    public override string ToString() => $"SelectorKey(fd {Fd}, {Interest}{(IsRegistered ? "" : ", unregistered")})";
}
