using System.Net;
using System.Net.Sockets;

namespace Eddy.Interop;

// Span-based wrappers over Libc.Socket.cs: every pointer pinning for sockets happens here, so the
// layers above are safe code. Each returns the syscall's result, and -1 with errno left for LastErrno().
internal static unsafe partial class Libc
{
    public static int Recv(int fd, Span<byte> buffer, out Errno errno)
    {
        nint n;
        fixed (byte* p = buffer)
        {
            do
            {
                n = Recv(fd, p, (nuint)buffer.Length, 0);
            }
            while (n == -1 && LastErrno() == Errno.EINTR);
        }
        errno = n == -1 ? LastErrno() : Errno.None;
        return (int)n;
    }

    public static int Send(int fd, ReadOnlySpan<byte> buffer, out Errno errno) => Send(fd, buffer, 0, out errno);

    /// <summary>send(2) without SIGPIPE, with extra <paramref name="flags"/> (e.g. <see cref="MSG_MORE"/>).</summary>
    public static int Send(int fd, ReadOnlySpan<byte> buffer, int flags, out Errno errno)
    {
        nint n;
        fixed (byte* p = buffer)
        {
            do
            {
                n = Send(fd, p, (nuint)buffer.Length, MSG_NOSIGNAL | flags);
            }
            while (n == -1 && LastErrno() == Errno.EINTR);
        }
        errno = n == -1 ? LastErrno() : Errno.None;
        return (int)n;
    }

    /// <summary>
    /// sendfile(2): copies up to <paramref name="count"/> bytes of the file <paramref name="inFd"/> from
    /// <paramref name="offset"/> to the socket inside the kernel (advancing <paramref name="offset"/>); bytes sent,
    /// 0 when the offset is at the file's end, or -1 with <paramref name="errno"/>.
    /// </summary>
    public static long SendFile(int outFd, int inFd, ref long offset, long count, out Errno errno)
    {
        nint n;
        fixed (long* p = &offset)
        {
            do
            {
                n = SendFile(outFd, inFd, p, (nuint)count);
            }
            while (n == -1 && LastErrno() == Errno.EINTR);
        }
        errno = n == -1 ? LastErrno() : Errno.None;
        return n;
    }

    /// <summary>writev(2) of up to <see cref="MaxIoVectors"/> buffers in one call.</summary>
    public static long Writev(int fd, ReadOnlySpan<ReadOnlyMemory<byte>> buffers, out Errno errno)
    {
        int count = Math.Min(buffers.Length, MaxIoVectors);
        IoVec* vectors = stackalloc IoVec[count];
        var pins = new PinnedBuffers();
        try
        {
            for (int i = 0; i < count; i++)
            {
                pins[i] = buffers[i].Pin();
                vectors[i].Base = (byte*)pins[i].Pointer;
                vectors[i].Length = (nuint)buffers[i].Length;
            }
            nint n;
            do
            {
                n = Writev(fd, vectors, count);
            }
            while (n == -1 && LastErrno() == Errno.EINTR);
            errno = n == -1 ? LastErrno() : Errno.None;
            return n;
        }
        finally
        {
            for (int i = 0; i < count; i++)
            {
                pins[i].Dispose();
            }
        }
    }

    /// <summary>IOV_MAX on Linux is 1024; a larger batch is written by the next call.</summary>
    public const int MaxIoVectors = 64;

    /// <summary>Pins for one writev call, on the stack so the call allocates nothing.</summary>
    [System.Runtime.CompilerServices.InlineArray(MaxIoVectors)]
    private struct PinnedBuffers
    {
        private System.Buffers.MemoryHandle _first;
    }

    public static int RecvFrom(int fd, Span<byte> buffer, Span<byte> address, out int addressLength, out Errno errno)
    {
        nint n;
        int length = address.Length;
        fixed (byte* p = buffer)
        fixed (byte* a = address)
        {
            do
            {
                length = address.Length;
                n = RecvFrom(fd, p, (nuint)buffer.Length, 0, a, &length);
            }
            while (n == -1 && LastErrno() == Errno.EINTR);
        }
        addressLength = length;
        errno = n == -1 ? LastErrno() : Errno.None;
        return (int)n;
    }

    public static int SendTo(int fd, ReadOnlySpan<byte> buffer, ReadOnlySpan<byte> address, out Errno errno)
    {
        nint n;
        fixed (byte* p = buffer)
        fixed (byte* a = address)
        {
            do
            {
                n = SendTo(fd, p, (nuint)buffer.Length, MSG_NOSIGNAL, a, address.Length);
            }
            while (n == -1 && LastErrno() == Errno.EINTR);
        }
        errno = n == -1 ? LastErrno() : Errno.None;
        return (int)n;
    }

    /// <summary>accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC; returns the new fd or -1.</summary>
    public static int Accept(int fd, out Errno errno)
    {
        int result;
        do
        {
            result = Accept4(fd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
        }
        while (result == -1 && LastErrno() == Errno.EINTR);
        errno = result == -1 ? LastErrno() : Errno.None;
        return result;
    }

    public static int Bind(int fd, ReadOnlySpan<byte> address)
    {
        fixed (byte* a = address)
        {
            return Bind(fd, a, address.Length);
        }
    }

    /// <summary>connect(2); EINTR is reported as EINPROGRESS since the connection goes on in the background (connect(2)).</summary>
    public static Errno Connect(int fd, ReadOnlySpan<byte> address)
    {
        fixed (byte* a = address)
        {
            if (Connect(fd, a, address.Length) == 0)
            {
                return Errno.None;
            }
        }
        Errno errno = LastErrno();
        return errno == Errno.EINTR ? Errno.EINPROGRESS : errno;
    }

    public static int SetSockOpt(int fd, int level, int name, int value) => SetSockOpt(fd, level, name, (byte*)&value, sizeof(int));

    public static int GetSockOptInt(int fd, int level, int name, out int value)
    {
        int v = 0;
        int length = sizeof(int);
        int result = GetSockOpt(fd, level, name, (byte*)&v, &length);
        value = v;
        return result;
    }

    /// <summary>getsockname(2) or getpeername(2) as an <see cref="EndPoint"/>.</summary>
    public static EndPoint? GetEndPoint(int fd, bool peer)
    {
        byte* buffer = stackalloc byte[SockAddr.MaxSize];
        int length = SockAddr.MaxSize;
        int result = peer ? GetPeerName(fd, buffer, &length) : GetSockName(fd, buffer, &length);
        if (result == -1)
        {
            return null;
        }
        return SockAddr.ToEndPoint(new ReadOnlySpan<byte>(buffer, length));
    }
}

/// <summary>Converts between .NET endpoints and native sockaddr bytes (on Linux, <see cref="SocketAddress"/> holds the native layout).</summary>
internal static class SockAddr
{
    /// <summary>sizeof(struct sockaddr_storage).</summary>
    public const int MaxSize = 128;

    public static byte[] FromEndPoint(EndPoint endPoint)
    {
        SocketAddress address = endPoint.Serialize();
        return address.Buffer.Span[..address.Size].ToArray();
    }

    public static AddressFamily Family(ReadOnlySpan<byte> native) => BitConverter.ToUInt16(native) switch
    {
        Libc.AF_INET => AddressFamily.InterNetwork,
        Libc.AF_INET6 => AddressFamily.InterNetworkV6,
        Libc.AF_UNIX => AddressFamily.Unix,
        var other => (AddressFamily)other,
    };

    public static EndPoint? ToEndPoint(ReadOnlySpan<byte> native)
    {
        if (native.Length < 2)
        {
            return null;
        }
        AddressFamily family = Family(native);
        var address = new SocketAddress(family, Math.Max(native.Length, family == AddressFamily.Unix ? 2 : native.Length));
        native.CopyTo(address.Buffer.Span);
        address.Size = native.Length;
        return family switch
        {
            AddressFamily.InterNetwork or AddressFamily.InterNetworkV6 => new IPEndPoint(IPAddress.Any, 0).Create(address),
            AddressFamily.Unix => native.Length <= 2 ? new UnixDomainSocketEndPoint("\0") : new UnixDomainSocketEndPoint("x").Create(address),
            _ => null,
        };
    }
}
