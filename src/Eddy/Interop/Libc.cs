using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Eddy.Interop;

/// <summary>
/// The only declarations of OS calls in Eddy, one partial file per syscall family.
/// Calls return the raw result; callers turn a -1 into an outcome (EAGAIN, EINTR) or,
/// through <see cref="ThrowFor"/>, into a <see cref="PosixException"/>.
/// </summary>
internal static unsafe partial class Libc
{
    private const string LibC = "libc";

    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;
    public const int F_GETFD = 1;
    public const int F_GETFL = 3;
    public const int F_SETFL = 4;

    [LibraryImport(LibC, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(LibC, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport(LibC, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport(LibC, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport(LibC, EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);

    [LibraryImport(LibC, EntryPoint = "getrlimit", SetLastError = true)]
    public static partial int GetRLimit(int resource, RLimit* limit);

    [LibraryImport(LibC, EntryPoint = "setrlimit", SetLastError = true)]
    public static partial int SetRLimit(int resource, RLimit* limit);

    public const int RLIMIT_NOFILE = 7;

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    /// <summary>errno of the last call made through this class on this thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Errno LastErrno() => (Errno)Marshal.GetLastPInvokeError();

    /// <summary>Throws the exception for the last call's errno.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [DoesNotReturn]
    public static void ThrowFor(string operation, int fd = -1) => throw new PosixException(LastErrno(), operation, fd);

    /// <summary>Throws when <paramref name="result"/> is -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Check(int result, string operation, int fd = -1)
    {
        if (result == -1)
        {
            ThrowFor(operation, fd);
        }
        return result;
    }

    /// <summary>True when <paramref name="fd"/> is an open descriptor (fcntl F_GETFD does not fail with EBADF).</summary>
    public static bool IsOpen(int fd) => Fcntl(fd, F_GETFD, 0) != -1 || LastErrno() != Errno.EBADF;

    /// <summary>Closes <paramref name="fd"/>. EINTR is not retried: on Linux the descriptor is released anyway (close(2)).</summary>
    public static void CloseQuietly(int fd)
    {
        if (fd >= 0)
        {
            Close(fd);
        }
    }

    public static void SetNonBlocking(int fd, bool nonBlocking)
    {
        int flags = Check(Fcntl(fd, F_GETFL, 0), "fcntl(F_GETFL)", fd);
        int wanted = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        if (wanted != flags)
        {
            Check(Fcntl(fd, F_SETFL, wanted), "fcntl(F_SETFL)", fd);
        }
    }
}

internal static unsafe partial class Libc
{
    [LibraryImport(LibC, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    /// <summary>
    /// True when <paramref name="path"/> is a socket file: open(2) on a socket fails with ENXIO. O_NONBLOCK
    /// keeps the probe from hanging on a FIFO, which opens at once for reading then and is no socket.
    /// </summary>
    public static bool IsSocketFile(string path)
    {
        int fd = Open(path, O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0)
        {
            Close(fd);
            return false;
        }
        return LastErrno() == Errno.ENXIO;
    }
}
