using System.Runtime.InteropServices;

namespace Eddy.Interop;

internal static unsafe partial class Libc
{
    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;

    [LibraryImport(LibC, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    /// <summary>Adds one to an eventfd counter; a full counter (EAGAIN) already means "wake up".</summary>
    public static void EventFdSignal(int fd)
    {
        ulong one = 1;
        Write(fd, (byte*)&one, sizeof(ulong));
    }

    /// <summary>Reads and resets an eventfd counter; EAGAIN means it was already zero.</summary>
    public static void EventFdDrain(int fd)
    {
        ulong value;
        Read(fd, (byte*)&value, sizeof(ulong));
    }
}
