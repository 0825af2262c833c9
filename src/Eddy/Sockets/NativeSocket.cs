using System.Net;
using System.Net.Sockets;
using Eddy.Interop;
using Microsoft.Win32.SafeHandles;

namespace Eddy.Sockets;

/// <summary>
/// A non-blocking socket descriptor with the calls an event loop makes on it. Calls never block:
/// they return a count (or <see cref="Errno.None"/>) on success and -1 with the errno otherwise,
/// so EAGAIN ("wait for readiness") is an outcome, not an exception, and EINTR is retried inside.
/// Setup calls (<see cref="Bind"/>, <see cref="Listen"/>, options) throw <see cref="PosixException"/>.
/// Not thread-safe: like every object a loop drives, it belongs to one loop thread.
/// </summary>
public sealed class NativeSocket : IDisposable
{
    private readonly SafeFdHandle _handle;

    private NativeSocket(int fd, AddressFamily family, SocketType type)
    {
        _handle = new SafeFdHandle(fd);
        Fd = fd;
        AddressFamily = family;
        SocketType = type;
    }

    /// <summary>The descriptor. Immutable until <see cref="Dispose"/>; unregister it from any selector before that.</summary>
    public int Fd { get; }

    /// <summary>The address family it was created with: IPv4, IPv6 or Unix.</summary>
    public AddressFamily AddressFamily { get; }

    /// <summary>Stream or datagram, as it was created.</summary>
    public SocketType SocketType { get; }

    /// <summary>True once <see cref="Dispose"/> closed the descriptor (or the finalizer did).</summary>
    public bool IsClosed => _handle.IsClosed;

    /// <summary>Creates a non-blocking, close-on-exec socket.</summary>
    public static NativeSocket Create(AddressFamily family, SocketType type = SocketType.Stream)
    {
        int domain = family switch
        {
            AddressFamily.InterNetwork => Libc.AF_INET,
            AddressFamily.InterNetworkV6 => Libc.AF_INET6,
            AddressFamily.Unix => Libc.AF_UNIX,
            _ => throw new ArgumentOutOfRangeException(nameof(family), family, "Eddy supports IPv4, IPv6 and Unix sockets."),
        };
        int sockType = type switch
        {
            SocketType.Stream => Libc.SOCK_STREAM,
            SocketType.Dgram => Libc.SOCK_DGRAM,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Eddy supports stream and datagram sockets."),
        };
        int fd = Libc.Check(Libc.Socket(domain, sockType | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0), "socket");
        return new NativeSocket(fd, family, type);
    }

    /// <summary>
    /// Creates a listening stream socket bound to <paramref name="endPoint"/> (port 0 picks a free port;
    /// read it back from <see cref="LocalEndPoint"/>). SO_REUSEADDR is set so a restarted server can
    /// bind while old connections sit in TIME_WAIT; SO_REUSEPORT lets several loops share the port.
    /// </summary>
    public static NativeSocket CreateListener(EndPoint endPoint, int backlog = 511, bool reusePort = false)
    {
        var socket = Create(endPoint.AddressFamily, SocketType.Stream);
        try
        {
            if (endPoint.AddressFamily != AddressFamily.Unix)
            {
                socket.SetOption(Libc.SOL_SOCKET, Libc.SO_REUSEADDR, 1, "SO_REUSEADDR");
                if (reusePort)
                {
                    socket.SetOption(Libc.SOL_SOCKET, Libc.SO_REUSEPORT, 1, "SO_REUSEPORT");
                }
            }
            socket.Bind(endPoint);
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Wraps a descriptor accepted on this listening socket (by <see cref="Accept"/> or an io_uring accept); both
    /// already made it non-blocking and close-on-exec.
    /// </summary>
    internal NativeSocket Adopt(int fd) => new(fd, AddressFamily, SocketType);

    /// <summary>
    /// bind(2) to <paramref name="endPoint"/> (an <see cref="IPEndPoint"/>, or a <see cref="UnixDomainSocketEndPoint"/>
    /// for a Unix socket); port 0 lets the kernel pick. Throws <see cref="PosixException"/>, e.g. EADDRINUSE.
    /// </summary>
    public void Bind(EndPoint endPoint)
    {
        if (Libc.Bind(Fd, SockAddr.FromEndPoint(endPoint)) == -1)
        {
            throw new PosixException(Libc.LastErrno(), $"bind to {endPoint}", Fd);
        }
    }

    /// <summary>
    /// listen(2): marks a bound stream socket as accepting connections, with up to <paramref name="backlog"/>
    /// of them waiting (the kernel caps it at net.core.somaxconn). Throws <see cref="PosixException"/>.
    /// </summary>
    public void Listen(int backlog) => Libc.Check(Libc.Listen(Fd, backlog), "listen", Fd);

    /// <summary>Accepts one pending connection, or returns null with EAGAIN when there is none (or another errno, e.g. EMFILE).</summary>
    public NativeSocket? Accept(out Errno errno)
    {
        int fd = Libc.Accept(Fd, out errno);
        return fd == -1 ? null : Adopt(fd);
    }

    /// <summary>recv(2): bytes read (0 at end of stream), or -1 with <paramref name="errno"/> (EAGAIN: nothing to read yet).</summary>
    public int Receive(Span<byte> buffer, out Errno errno) => Libc.Recv(Fd, buffer, out errno);

    /// <summary>send(2) without SIGPIPE: bytes written (possibly fewer than given), or -1 with <paramref name="errno"/>.</summary>
    public int Send(ReadOnlySpan<byte> buffer, out Errno errno) => Libc.Send(Fd, buffer, out errno);

    /// <summary>
    /// send(2) with MSG_MORE: as <see cref="Send(ReadOnlySpan{byte}, out Errno)"/>, but the kernel holds the bytes
    /// back (briefly) to go out in the same segments as what is sent next, e.g. a response head before its file.
    /// </summary>
    public int SendMore(ReadOnlySpan<byte> buffer, out Errno errno) => Libc.Send(Fd, buffer, Libc.MSG_MORE, out errno);

    /// <summary>writev(2) of several buffers in one call: bytes written, or -1 with <paramref name="errno"/>.</summary>
    public long Send(ReadOnlySpan<ReadOnlyMemory<byte>> buffers, out Errno errno) => Libc.Writev(Fd, buffers, out errno);

    /// <summary>
    /// sendfile(2): sends up to <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/>
    /// without copying them through user space, advancing <paramref name="offset"/>. Bytes sent, 0 when the file
    /// ends at <paramref name="offset"/>, or -1 with <paramref name="errno"/> (EAGAIN: the socket is full).
    /// </summary>
    public long SendFile(SafeFileHandle file, ref long offset, long count, out Errno errno)
    {
        bool added = false;
        file.DangerousAddRef(ref added); // the descriptor stays valid for the call even if disposed meanwhile
        try
        {
            return Libc.SendFile(Fd, (int)file.DangerousGetHandle(), ref offset, count, out errno);
        }
        finally
        {
            file.DangerousRelease();
        }
    }

    /// <summary>recvfrom(2) for datagram sockets.</summary>
    public int ReceiveFrom(Span<byte> buffer, out EndPoint? remote, out Errno errno)
    {
        Span<byte> address = stackalloc byte[SockAddr.MaxSize];
        int n = Libc.RecvFrom(Fd, buffer, address, out int length, out errno);
        remote = n == -1 ? null : SockAddr.ToEndPoint(address[..length]);
        return n;
    }

    /// <summary>sendto(2) for datagram sockets.</summary>
    public int SendTo(ReadOnlySpan<byte> buffer, EndPoint remote, out Errno errno) => Libc.SendTo(Fd, buffer, SockAddr.FromEndPoint(remote), out errno);

    /// <summary>
    /// Starts connecting: <see cref="Errno.None"/> when connected at once (Unix sockets, often loopback),
    /// <see cref="Errno.EINPROGRESS"/> when the result comes later (wait for writability, then read
    /// <see cref="GetPendingError"/>), or the failure.
    /// </summary>
    public Errno Connect(EndPoint endPoint) => Libc.Connect(Fd, SockAddr.FromEndPoint(endPoint));

    /// <summary>SO_ERROR: the outcome of a non-blocking connect, or of the last asynchronous error.</summary>
    public Errno GetPendingError()
    {
        Libc.Check(Libc.GetSockOptInt(Fd, Libc.SOL_SOCKET, Libc.SO_ERROR, out int value), "getsockopt(SO_ERROR)", Fd);
        return (Errno)value;
    }

    /// <summary>shutdown(2). ENOTCONN (the peer is already gone) is ignored.</summary>
    public void Shutdown(SocketShutdown how)
    {
        int mode = how switch
        {
            SocketShutdown.Receive => Libc.SHUT_RD,
            SocketShutdown.Send => Libc.SHUT_WR,
            _ => Libc.SHUT_RDWR,
        };
        if (Libc.Shutdown(Fd, mode) == -1 && Libc.LastErrno() != Errno.ENOTCONN)
        {
            Libc.ThrowFor("shutdown", Fd);
        }
    }

    /// <summary>TCP_NODELAY: send small writes at once instead of waiting for an ACK (Nagle's algorithm).</summary>
    public bool NoDelay
    {
        get => GetOption(Libc.IPPROTO_TCP, Libc.TCP_NODELAY, "TCP_NODELAY") != 0;
        set => SetOption(Libc.IPPROTO_TCP, Libc.TCP_NODELAY, value ? 1 : 0, "TCP_NODELAY");
    }

    /// <summary>SO_SNDBUF: the kernel's send buffer size in bytes (Linux doubles what is set, and reports the doubled value). Throws <see cref="PosixException"/>.</summary>
    public int SendBufferSize
    {
        get => GetOption(Libc.SOL_SOCKET, Libc.SO_SNDBUF, "SO_SNDBUF");
        set => SetOption(Libc.SOL_SOCKET, Libc.SO_SNDBUF, value, "SO_SNDBUF");
    }

    /// <summary>SO_RCVBUF: the kernel's receive buffer size in bytes (Linux doubles what is set, and reports the doubled value). Throws <see cref="PosixException"/>.</summary>
    public int ReceiveBufferSize
    {
        get => GetOption(Libc.SOL_SOCKET, Libc.SO_RCVBUF, "SO_RCVBUF");
        set => SetOption(Libc.SOL_SOCKET, Libc.SO_RCVBUF, value, "SO_RCVBUF");
    }

    /// <summary>SO_KEEPALIVE: TCP keep-alive probes on an idle connection, so a vanished peer shows as ETIMEDOUT. Throws <see cref="PosixException"/>.</summary>
    public bool KeepAlive
    {
        get => GetOption(Libc.SOL_SOCKET, Libc.SO_KEEPALIVE, "SO_KEEPALIVE") != 0;
        set => SetOption(Libc.SOL_SOCKET, Libc.SO_KEEPALIVE, value ? 1 : 0, "SO_KEEPALIVE");
    }

    /// <summary>Sets TCP_NODELAY where it applies (stream sockets over IP), and does nothing on Unix sockets.</summary>
    public void TrySetNoDelay()
    {
        if (SocketType == SocketType.Stream && AddressFamily != AddressFamily.Unix)
        {
            Libc.SetSockOpt(Fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, 1);
        }
    }

    /// <summary>getsockname(2); for a listener bound to port 0, the port the kernel picked.</summary>
    public EndPoint? LocalEndPoint => Libc.GetEndPoint(Fd, peer: false);

    /// <summary>getpeername(2); null when not connected.</summary>
    public EndPoint? RemoteEndPoint => Libc.GetEndPoint(Fd, peer: true);

    /// <summary>
    /// The event loop's state for this socket (its registration and pending awaitables), set on first use
    /// by an <c>EventLoop.Sock*Async</c> call. Disposed before the descriptor closes, which unregisters it.
    /// </summary>
    internal IDisposable? LoopState { get; set; }

    /// <summary>
    /// Closes the descriptor. Idempotent. A socket used with the loop's awaitables is unregistered first
    /// and its pending operations fail; call it on the loop thread. Unregister it from any other selector first.
    /// </summary>
    public void Dispose()
    {
        if (LoopState is { } state)
        {
            LoopState = null;
            state.Dispose();
        }
        _handle.Dispose();
    }

    /// <summary>For logs: the descriptor and address family, or that it is closed.</summary>
    public override string ToString() => IsClosed ? "NativeSocket(closed)" : $"NativeSocket(fd {Fd}, {AddressFamily})";

    private void SetOption(int level, int name, int value, string optionName)
    {
        if (Libc.SetSockOpt(Fd, level, name, value) == -1)
        {
            Libc.ThrowFor($"setsockopt({optionName})", Fd);
        }
    }

    private int GetOption(int level, int name, string optionName)
    {
        Libc.Check(Libc.GetSockOptInt(Fd, level, name, out int value), $"getsockopt({optionName})", Fd);
        return value;
    }
}
