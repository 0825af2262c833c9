using Eddy.Interop;
using Eddy.Loop.Internal;
using Eddy.Selectors;

namespace Eddy.Loop;

// Readers and writers: callbacks run while a descriptor is readable or writable (level-triggered).
public sealed partial class EventLoop
{
    private byte[]? _sharedReadBuffer;
    private ReadOnlyMemory<byte>[]? _writeSegments;

    /// <summary>
    /// One receive buffer for every reader of this loop (uvloop's <c>Loop._recv_buffer</c>): callbacks never
    /// overlap on a loop, so a reader that hands out a span of it, valid only during its callback, needs no
    /// buffer of its own, and an idle connection owns none.
    /// </summary>
    internal byte[] SharedReadBuffer => _sharedReadBuffer ??= new byte[64 * 1024];

    /// <summary>Scratch for one writev(2) call.</summary>
    internal ReadOnlyMemory<byte>[] WriteSegments => _writeSegments ??= new ReadOnlyMemory<byte>[Libc.MaxIoVectors];

    /// <summary>Runs <paramref name="callback"/> in every tick in which <paramref name="fd"/> is readable, until <see cref="RemoveReader"/>. Replaces an earlier reader.</summary>
    public void AddReader(int fd, Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        CheckLoopCall(nameof(AddReader));
        FdWatcher watcher = GetOrCreateWatcher(fd);
        watcher.Reader = callback;
        watcher.ReaderState = state;
        UpdateInterest(watcher);
    }

    /// <summary>Stops watching <paramref name="fd"/> for reading; returns whether it had a reader.</summary>
    public bool RemoveReader(int fd)
    {
        CheckLoopCall(nameof(RemoveReader));
        if (!TryGetWatcher(fd, out FdWatcher? watcher) || watcher.Reader is null)
        {
            return false;
        }
        watcher.Reader = null;
        watcher.ReaderState = null;
        UpdateInterest(watcher);
        return true;
    }

    /// <summary>Runs <paramref name="callback"/> in every tick in which <paramref name="fd"/> is writable, until <see cref="RemoveWriter"/>. Replaces an earlier writer.</summary>
    public void AddWriter(int fd, Action<object?> callback, object? state)
    {
        ArgumentNullException.ThrowIfNull(callback);
        CheckLoopCall(nameof(AddWriter));
        FdWatcher watcher = GetOrCreateWatcher(fd);
        watcher.Writer = callback;
        watcher.WriterState = state;
        UpdateInterest(watcher);
    }

    /// <summary>Stops watching <paramref name="fd"/> for writing; returns whether it had a writer.</summary>
    public bool RemoveWriter(int fd)
    {
        CheckLoopCall(nameof(RemoveWriter));
        if (!TryGetWatcher(fd, out FdWatcher? watcher) || watcher.Writer is null)
        {
            return false;
        }
        watcher.Writer = null;
        watcher.WriterState = null;
        UpdateInterest(watcher);
        return true;
    }

    /// <summary>Clears the reader but leaves the interest armed; the next event with no reader disarms it.</summary>
    internal void DisarmReaderLazily(FdWatcher watcher)
    {
        watcher.Reader = null;
        watcher.ReaderState = null;
    }

    internal void DisarmWriterLazily(FdWatcher watcher)
    {
        watcher.Writer = null;
        watcher.WriterState = null;
    }

    internal void ArmReader(FdWatcher watcher, Action<object?> callback, object? state)
    {
        watcher.Reader = callback;
        watcher.ReaderState = state;
        if ((watcher.Registered & Interest.Read) == 0)
        {
            UpdateInterest(watcher);
        }
    }

    internal void ArmWriter(FdWatcher watcher, Action<object?> callback, object? state)
    {
        watcher.Writer = callback;
        watcher.WriterState = state;
        if ((watcher.Registered & Interest.Write) == 0)
        {
            UpdateInterest(watcher);
        }
    }

    /// <summary>Stops watching <paramref name="fd"/> entirely, whatever was armed. Call before closing a descriptor.</summary>
    internal void ForgetFd(int fd)
    {
        if (_closed || !TryGetWatcher(fd, out FdWatcher? watcher))
        {
            return;
        }
        watcher.Reader = watcher.Writer = null;
        watcher.ReaderState = watcher.WriterState = null;
        UpdateInterest(watcher);
    }

    internal FdWatcher GetOrCreateWatcher(int fd)
    {
        if (TryGetWatcher(fd, out FdWatcher? watcher))
        {
            return watcher;
        }
        ArgumentOutOfRangeException.ThrowIfNegative(fd);
        return new FdWatcher(fd);
    }

    private bool TryGetWatcher(int fd, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FdWatcher? watcher)
    {
        watcher = _selector.TryGetKey(fd, out SelectorKey? key) ? key.Data as FdWatcher : null;
        return watcher is not null;
    }

    /// <summary>Makes the selector watch exactly what the watcher's callbacks need.</summary>
    internal void UpdateInterest(FdWatcher watcher)
    {
        Interest wanted = watcher.Wanted;
        if (wanted == watcher.Registered)
        {
            return;
        }
        if (wanted == Interest.None)
        {
            _selector.Unregister(watcher.Fd);
            watcher.IsRegistered = false;
        }
        else if (!watcher.IsRegistered)
        {
            _selector.Register(watcher.Fd, wanted, watcher);
            watcher.IsRegistered = true;
        }
        else
        {
            try
            {
                _selector.Modify(watcher.Fd, wanted);
            }
            catch (PosixException e) when (e.Errno == Errno.ENOENT)
            {
                // The fd was closed (leaving epoll by itself) and its number reused while we still had it:
                // the kernel has no registration to modify, so make a fresh one.
                _selector.Unregister(watcher.Fd);
                _selector.Register(watcher.Fd, wanted, watcher);
            }
        }
        watcher.Registered = wanted;
    }

    /// <summary>On close: forget every registration except the wake-up fd, which Close releases itself.</summary>
    private void CloseWatchers()
    {
        foreach (SelectorKey key in _selector.Keys)
        {
            if (key.Data is FdWatcher watcher)
            {
                watcher.IsRegistered = false;
                watcher.Reader = watcher.Writer = null;
                watcher.ReaderState = watcher.WriterState = null;
            }
        }
    }
}
