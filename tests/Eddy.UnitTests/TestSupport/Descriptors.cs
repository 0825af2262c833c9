using Eddy.Interop;

namespace Eddy.UnitTests.TestSupport;

/// <summary>Raw descriptors for tests: eventfds (readable once written) and the process's descriptor table.</summary>
internal static class Descriptors
{
    /// <summary>A non-blocking eventfd: readable after <see cref="Signal"/>, never writable-blocked.</summary>
    public static int CreateEventFd() => Libc.Check(Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK), "eventfd");

    public static void Signal(int eventFd) => Libc.EventFdSignal(eventFd);

    public static void Drain(int eventFd) => Libc.EventFdDrain(eventFd);

    public static void Close(int fd) => Libc.Close(fd);

    public static bool IsOpen(int fd) => Libc.IsOpen(fd);

    /// <summary>How many descriptors the process has open (the listing's own directory fd included, every time alike).</summary>
    public static int CountOpen() => Directory.GetFileSystemEntries("/proc/self/fd").Length;

}
