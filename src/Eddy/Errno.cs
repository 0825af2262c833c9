namespace Eddy;

/// <summary>
/// Linux errno values that Eddy names or reacts to (asm-generic/errno-base.h, errno.h): the outcome of the
/// non-blocking calls of <see cref="Sockets.NativeSocket"/> (EAGAIN is an outcome, not an error) and the cause
/// carried by a <see cref="PosixException"/>.
/// </summary>
public enum Errno
{
    /// <summary>No error: the call succeeded (not an errno; what <see cref="Sockets.NativeSocket.Connect"/> returns when connected at once).</summary>
    None = 0,

    /// <summary>Operation not permitted. From accept(2), a firewall refused the connection: the server drops it and goes on accepting.</summary>
    EPERM = 1,

    /// <summary>No such file or directory (e.g. a Unix socket path that does not exist).</summary>
    ENOENT = 2,

    /// <summary>No such device or address. open(2) of a socket file fails with it: that is how Eddy tells a Unix socket file left by an earlier run from other files.</summary>
    ENXIO = 6,

    /// <summary>Interrupted system call: a signal arrived during the call. Retried inside Eddy's wrappers, never thrown; <see cref="Selectors.Selector.Select"/> returns 0 for it.</summary>
    EINTR = 4,

    /// <summary>Input/output error.</summary>
    EIO = 5,

    /// <summary>Bad file descriptor: the descriptor is not open (a closed socket, a stale fd number).</summary>
    EBADF = 9,

    /// <summary>Resource temporarily unavailable (also EWOULDBLOCK): the non-blocking call would block. An outcome, never thrown: wait for readiness and call again.</summary>
    EAGAIN = 11,

    /// <summary>Cannot allocate memory (kernel memory). From accept(2), the server stops accepting for 100 ms, as for <see cref="EMFILE"/>.</summary>
    ENOMEM = 12,

    /// <summary>Device or resource busy. From io_uring_enter(2), completions are waiting to be reaped before more can be posted.</summary>
    EBUSY = 16,

    /// <summary>Permission denied (e.g. binding a port below 1024 without the capability, or a Unix socket path the process cannot write).</summary>
    EACCES = 13,

    /// <summary>Bad address: a pointer passed to the kernel is invalid (a bug, never a network condition).</summary>
    EFAULT = 14,

    /// <summary>File exists.</summary>
    EEXIST = 17,

    /// <summary>Not a directory (a component of a Unix socket path).</summary>
    ENOTDIR = 20,

    /// <summary>Invalid argument (e.g. listen(2) on a socket that is connected, a bad option value).</summary>
    EINVAL = 22,

    /// <summary>Too many open files in system: the system-wide descriptor table is full. From accept(2), the server stops accepting for 100 ms at a time, as for <see cref="EMFILE"/>.</summary>
    ENFILE = 23,

    /// <summary>Too many open files: the process reached its descriptor limit (RLIMIT_NOFILE). From accept(2), the server stops watching the listener for 100 ms at a time rather than spin; pending connections wait in the backlog.</summary>
    EMFILE = 24,

    /// <summary>No space left on device.</summary>
    ENOSPC = 28,

    /// <summary>Broken pipe: the peer closed the connection and a send found it gone (Eddy sends without SIGPIPE). A connection loss (<see cref="PosixException.IsConnectionLoss"/>).</summary>
    EPIPE = 32,

    /// <summary>File name too long (a path).</summary>
    ENAMETOOLONG = 36,

    /// <summary>Function not implemented: the kernel lacks the system call.</summary>
    ENOSYS = 38,

    /// <summary>Protocol error. From accept(2), a connection that failed before it was accepted: the server drops it and goes on accepting.</summary>
    EPROTO = 71,

    /// <summary>Socket operation on non-socket: the descriptor is not a socket.</summary>
    ENOTSOCK = 88,

    /// <summary>Message too long: a datagram larger than the socket can send in one piece.</summary>
    EMSGSIZE = 90,

    /// <summary>Protocol wrong type for socket.</summary>
    EPROTOTYPE = 91,

    /// <summary>Protocol not available: an option the socket's protocol does not have.</summary>
    ENOPROTOOPT = 92,

    /// <summary>Protocol not supported.</summary>
    EPROTONOSUPPORT = 93,

    /// <summary>Operation not supported on the socket (e.g. listen(2) on a datagram socket).</summary>
    EOPNOTSUPP = 95,

    /// <summary>Address family not supported by protocol (e.g. an IPv6 address on an IPv4 socket).</summary>
    EAFNOSUPPORT = 97,

    /// <summary>Address already in use: another socket is bound to the address (without SO_REUSEPORT on both).</summary>
    EADDRINUSE = 98,

    /// <summary>Cannot assign requested address: the address is not local, or no ephemeral port is left.</summary>
    EADDRNOTAVAIL = 99,

    /// <summary>Network is down.</summary>
    ENETDOWN = 100,

    /// <summary>Network is unreachable.</summary>
    ENETUNREACH = 101,

    /// <summary>Software caused connection abort: the connection was aborted locally. From accept(2), the pending connection is gone: the server goes on accepting. A connection loss (<see cref="PosixException.IsConnectionLoss"/>).</summary>
    ECONNABORTED = 103,

    /// <summary>Connection reset by peer: the peer sent RST. A connection loss (<see cref="PosixException.IsConnectionLoss"/>): transports close without reporting it to the loop's exception handler.</summary>
    ECONNRESET = 104,

    /// <summary>No buffer space available. From accept(2), the server stops accepting for 100 ms, as for <see cref="EMFILE"/>.</summary>
    ENOBUFS = 105,

    /// <summary>Transport endpoint is already connected.</summary>
    EISCONN = 106,

    /// <summary>Transport endpoint is not connected (the peer is already gone; shutdown(2) ignores it). A connection loss (<see cref="PosixException.IsConnectionLoss"/>).</summary>
    ENOTCONN = 107,

    /// <summary>Connection timed out: a connect, or TCP keep-alive or retransmission, gave up. A connection loss (<see cref="PosixException.IsConnectionLoss"/>).</summary>
    ETIMEDOUT = 110,

    /// <summary>Connection refused: nothing listens at the address (for a datagram endpoint, an ICMP port-unreachable, reported to <see cref="Transports.DatagramProtocol.ErrorReceived"/>).</summary>
    ECONNREFUSED = 111,

    /// <summary>No route to host.</summary>
    EHOSTUNREACH = 113,

    /// <summary>Operation already in progress: a connect is already under way on the socket.</summary>
    EALREADY = 114,

    /// <summary>Operation now in progress: a non-blocking connect(2) has started; wait for writability, then read <see cref="Sockets.NativeSocket.GetPendingError"/>. An outcome of <see cref="Sockets.NativeSocket.Connect"/>, not an error.</summary>
    EINPROGRESS = 115,

    /// <summary>Timer expired. From io_uring_enter(2), a wait with a timeout ended with no completion.</summary>
    ETIME = 62,

    /// <summary>Operation canceled. The completion of an io_uring request that was removed before it finished.</summary>
    ECANCELED = 125,
}
