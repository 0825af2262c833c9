using Eddy.Interop;

namespace Eddy.Selectors;

/// <summary>
/// I/O readiness multiplexing, after Python's <c>selectors</c> and mio's <c>Poll</c>: register a
/// descriptor with an <see cref="Interest"/> and some data, then <see cref="Select"/> returns the
/// registrations that are ready.
///
/// The contract every backend keeps:
/// <list type="bullet">
/// <item>Readiness is level-triggered: a registration stays ready until the condition is consumed
///   (read until EAGAIN is not required; one read per event is fine).</item>
/// <item><see cref="Select"/> fills the caller's span and returns how many events it wrote, at most one per
///   registration. It returns 0 when the timeout passes, when a signal interrupts the wait (EINTR:
///   the caller recomputes its timeout and calls again), and with no registrations after the timeout.</item>
/// <item>Errors and hang-ups are reported as every interest the key has; the next I/O call shows what happened.</item>
/// <item>Registering an fd twice, or a closed fd; modifying or unregistering an unknown fd; modifying a
///   closed fd; and any call on a closed selector throw, naming the fd and the call.
///   <see cref="Unregister"/> of an fd that was already closed succeeds (the kernel dropped it already).</item>
/// <item>Not thread-safe: one thread selects and registers. To interrupt a blocked <see cref="Select"/>
///   from another thread, register an eventfd and write to it (the event loop does).</item>
/// </list>
/// Backends: <see cref="EpollSelector"/> (Linux default), <see cref="PollSelector"/> (portable fallback) and
/// <see cref="IoUringSelector"/> (the wait on io_uring). Set <c>EDDY_SELECTOR=poll</c> to make <see cref="Create"/>
/// pick the fallback, so it runs on Linux in tests, and <c>EDDY_IO=uring</c> for io_uring.
/// </summary>
public abstract class Selector : IDisposable
{
    /// <summary>Environment variable that forces <see cref="Create"/> to return a <see cref="PollSelector"/>.</summary>
    public const string BackendVariable = "EDDY_SELECTOR";

    // Registrations indexed by fd: descriptors are small dense integers, so an array beats a dictionary.
    private SelectorKey?[] _keys = new SelectorKey?[64];
    private int _count;
    private uint _nextGeneration;

    /// <summary>Environment variable that picks the I/O backend: <c>uring</c> or <c>uring-poll</c> for io_uring (<see cref="IoUringSelector"/>), <c>epoll</c> or unset for the selectors.</summary>
    public const string IoVariable = "EDDY_IO";

    private static int s_fallbackLogged;

    /// <summary>
    /// The default selector: epoll, or poll when <c>EDDY_SELECTOR=poll</c>; io_uring when <c>EDDY_IO=uring</c> (the
    /// wait, receives and sends on the ring) or <c>EDDY_IO=uring-poll</c> (only the wait, for comparison), and then
    /// epoll if the kernel refuses io_uring (containers often forbid it), said once per process on standard error.
    /// </summary>
    public static Selector Create()
    {
        string? io = Environment.GetEnvironmentVariable(IoVariable);
        switch (io?.Trim().ToLowerInvariant())
        {
            case "uring":
                return CreateIoUringOrEpoll(static () => new IoUringSelector(), LogFallbackOnce);
            case "uring-poll":
                return CreateIoUringOrEpoll(static () => new IoUringSelector(ringIo: false), LogFallbackOnce);
            case not (null or "" or "epoll"):
                throw new ArgumentException($"{IoVariable}={io} is not an I/O backend; choose uring or uring-poll (or leave it unset for epoll).");
        }
        string? backend = Environment.GetEnvironmentVariable(BackendVariable);
        return backend?.Trim().ToLowerInvariant() switch
        {
            null or "" or "epoll" => new EpollSelector(),
            "poll" => new PollSelector(),
            _ => throw new ArgumentException($"{BackendVariable}={backend} is not a selector; choose epoll or poll."),
        };
    }

    private static void LogFallbackOnce(string line)
    {
        if (Interlocked.Exchange(ref s_fallbackLogged, 1) == 0)
        {
            Console.Error.WriteLine(line); // once per process, not once per loop
        }
    }

    /// <summary>io_uring from <paramref name="create"/>, or epoll when the kernel refuses it, with one line to <paramref name="log"/> saying so.</summary>
    internal static Selector CreateIoUringOrEpoll(Func<Selector> create, Action<string> log)
    {
        try
        {
            return create();
        }
        catch (Exception e) when (e is PosixException or NotSupportedException)
        {
            log($"eddy: {IoVariable}=uring, but io_uring is not available here ({e.Message}); using epoll.");
            return new EpollSelector();
        }
    }

    /// <summary>The backend's name: "epoll", "poll" or "io_uring".</summary>
    public abstract string Name { get; }

    /// <summary>How many descriptors are registered.</summary>
    public int Count => _count;

    /// <summary>True once <see cref="Close"/> (or <see cref="Dispose"/>) ran: every call but these two then throws.</summary>
    public bool IsClosed { get; private set; }

    /// <summary>Starts watching <paramref name="fd"/> for <paramref name="interest"/>.</summary>
    public SelectorKey Register(int fd, Interest interest, object? data = null)
    {
        ThrowIfClosed(nameof(Register), fd);
        ValidateInterest(nameof(Register), fd, interest);
        if (TryGetKey(fd, out _))
        {
            throw new ArgumentException($"Register(fd {fd}): fd {fd} is already registered.", nameof(fd));
        }
        var key = new SelectorKey(fd, interest, data, unchecked(++_nextGeneration));
        AddToBackend(key);
        if (fd >= _keys.Length)
        {
            Array.Resize(ref _keys, Math.Max(fd + 1, _keys.Length * 2));
        }
        _keys[fd] = key;
        _count++;
        return key;
    }

    /// <summary>Changes what <paramref name="fd"/> waits for, and its data. The key is updated in place.</summary>
    public SelectorKey Modify(int fd, Interest interest, object? data)
    {
        SelectorKey key = GetKeyFor(nameof(Modify), fd);
        ValidateInterest(nameof(Modify), fd, interest);
        if (key.Interest != interest)
        {
            ModifyInBackend(key, interest);
            key.Interest = interest;
        }
        key.Data = data;
        return key;
    }

    /// <summary>Changes what <paramref name="fd"/> waits for, keeping its data.</summary>
    public SelectorKey Modify(int fd, Interest interest) => Modify(fd, interest, GetKeyFor(nameof(Modify), fd).Data);

    /// <summary>Stops watching <paramref name="fd"/> and returns its key. Call it before closing the fd.</summary>
    public SelectorKey Unregister(int fd)
    {
        SelectorKey key = GetKeyFor(nameof(Unregister), fd);
        RemoveFromBackend(key);
        _keys[fd] = null;
        _count--;
        key.IsRegistered = false;
        return key;
    }

    /// <summary>The registration of <paramref name="fd"/>, if there is one.</summary>
    public bool TryGetKey(int fd, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SelectorKey? key)
    {
        key = (uint)fd < (uint)_keys.Length ? _keys[fd] : null; // (uint) also rejects negative fds
        return key is not null;
    }

    /// <summary>The registration of <paramref name="fd"/>; throws when there is none.</summary>
    public SelectorKey GetKey(int fd) => GetKeyFor(nameof(GetKey), fd);

    /// <summary>Every current registration, in fd order.</summary>
    public IEnumerable<SelectorKey> Keys => _keys.Where(k => k is not null).Select(k => k!).ToArray();

    /// <summary>
    /// Waits until at least one registration is ready or <paramref name="timeoutMs"/> passes
    /// (-1: wait indefinitely; 0: just look), then writes the ready ones to <paramref name="events"/>.
    /// </summary>
    /// <returns>The number of events written; 0 on timeout or EINTR.</returns>
    public int Select(Span<SelectorEvent> events, int timeoutMs)
    {
        ThrowIfClosed(nameof(Select), -1);
        if (events.IsEmpty)
        {
            throw new ArgumentException("Select needs room for at least one event.", nameof(events));
        }
        return SelectCore(events, timeoutMs < 0 ? -1 : timeoutMs);
    }

    /// <summary>Unregisters everything and releases the backend. Idempotent. Does not close the registered fds.</summary>
    public void Close()
    {
        if (IsClosed)
        {
            return;
        }
        IsClosed = true;
        foreach (SelectorKey? key in _keys)
        {
            if (key is not null)
            {
                key.IsRegistered = false;
            }
        }
        Array.Clear(_keys);
        _count = 0;
        CloseBackend();
    }

    /// <summary>The same as <see cref="Close"/>.</summary>
    public void Dispose()
    {
        Close();
        GC.SuppressFinalize(this);
    }

    /// <summary>Maps a backend's readiness bits to interests, limited to what the key asked for (see the contract above).</summary>
    protected static Interest Ready(SelectorKey key, bool readable, bool writable, bool failed)
    {
        Interest ready = failed ? Interest.ReadWrite : (readable ? Interest.Read : 0) | (writable ? Interest.Write : 0);
        return ready & key.Interest;
    }

    /// <summary>The live key of <paramref name="fd"/> if it is still the registration numbered <paramref name="generation"/>.</summary>
    protected SelectorKey? CurrentKey(int fd, uint generation)
    {
        SelectorKey? key = (uint)fd < (uint)_keys.Length ? _keys[fd] : null;
        return key is not null && key.Generation == generation ? key : null;
    }

    // What a backend provides. The base class has already checked the arguments and the selector's state, and
    // keeps the key table: a backend only tells the OS.

    /// <summary>
    /// Starts watching <paramref name="key"/>'s fd for its <see cref="SelectorKey.Interest"/>. Called by
    /// <see cref="Register"/> before the key enters the table, so a throw registers nothing; throws
    /// <see cref="PosixException"/> (EBADF for a descriptor that is not open).
    /// </summary>
    protected abstract void AddToBackend(SelectorKey key);

    /// <summary>
    /// Changes what <paramref name="key"/>'s fd waits for to <paramref name="interest"/>. Called by
    /// <see cref="Modify(int, Interest, object?)"/> only when the interest changes, while
    /// <see cref="SelectorKey.Interest"/> still holds the old one; throws <see cref="PosixException"/> (EBADF
    /// for a closed descriptor), and then the key keeps its old interest.
    /// </summary>
    protected abstract void ModifyInBackend(SelectorKey key, Interest interest);

    /// <summary>
    /// Stops watching <paramref name="key"/>'s fd. Called by <see cref="Unregister"/> while the key is still in
    /// the table. Must succeed when the descriptor was closed already.
    /// </summary>
    protected abstract void RemoveFromBackend(SelectorKey key);

    /// <summary>
    /// <see cref="Select"/>'s wait: <paramref name="events"/> is not empty and <paramref name="timeoutMs"/> is -1
    /// (indefinitely) or at least 0. Writes at most one event per registration, with <see cref="Ready"/>'s
    /// interests, and none for a key unregistered meanwhile (<see cref="CurrentKey"/> tells, for a backend that
    /// reports by fd number); returns how many, 0 on timeout or EINTR. Throws <see cref="PosixException"/> for any
    /// other failure of the wait.
    /// </summary>
    protected abstract int SelectCore(Span<SelectorEvent> events, int timeoutMs);

    /// <summary>Releases what the backend holds (e.g. the epoll descriptor). Called once, by <see cref="Close"/>, after the keys are dropped.</summary>
    protected abstract void CloseBackend();

    /// <summary>
    /// Hands the completions of ring requests taken by the last <see cref="Select"/> to their owners (the loop calls it
    /// after dispatching that select's events). Only a completion-based backend (<see cref="IoUringSelector"/>) has any.
    /// </summary>
    internal virtual void RunCompletions()
    {
    }

    /// <summary>
    /// Hands the kernel what is queued for the next <see cref="Select"/> without waiting (the loop calls it when it
    /// stops running): on a completion-based backend a write or a close is a request that otherwise waits for the
    /// next select, which a stopped loop may never make. Nothing to do for the readiness backends.
    /// </summary>
    internal virtual void SubmitPending()
    {
    }

    private SelectorKey GetKeyFor(string operation, int fd)
    {
        ThrowIfClosed(operation, fd);
        if (!TryGetKey(fd, out SelectorKey? key))
        {
            throw new KeyNotFoundException($"{operation}(fd {fd}): fd {fd} is not registered.");
        }
        return key;
    }

    private void ThrowIfClosed(string operation, int fd)
    {
        if (IsClosed)
        {
            throw new ObjectDisposedException(GetType().Name, fd >= 0 ? $"{operation}(fd {fd}): the selector is closed." : $"{operation}: the selector is closed.");
        }
    }

    private static void ValidateInterest(string operation, int fd, Interest interest)
    {
        if (interest == Interest.None || (interest & ~Interest.ReadWrite) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(interest), interest, $"{operation}(fd {fd}): interest must be Read, Write or both.");
        }
    }

    /// <summary>Throws EBADF for a descriptor that is not open, as epoll_ctl would.</summary>
    protected static void ThrowIfNotOpen(string operation, int fd)
    {
        if (fd < 0 || !Libc.IsOpen(fd))
        {
            throw new PosixException(Errno.EBADF, operation, fd);
        }
    }
}
