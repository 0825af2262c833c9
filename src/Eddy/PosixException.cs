using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Eddy;

/// <summary>
/// A failed OS call: names the call, the descriptor it was made on, and the errno (its symbolic name
/// and strerror text), e.g. <c>recv(fd 12): ECONNRESET (Connection reset by peer)</c>. Every layer throws it
/// (selectors, the loop, sockets, transports, HTTP's connections), so it belongs to none of them and lives
/// in the root namespace, which code in any <c>Eddy.*</c> namespace sees without a using. errno becomes one in
/// a single place, the Interop layer's <c>Libc.ThrowFor</c>; EAGAIN and EINTR never get here, they are outcomes.
/// </summary>
public sealed class PosixException : IOException
{
    /// <summary>
    /// Creates the exception for <paramref name="operation"/> failing with <paramref name="errno"/>; the message
    /// is built from them and <paramref name="fd"/> (-1: no descriptor), with the strerror text.
    /// <see cref="Exception.HResult"/> is the errno value.
    /// </summary>
    /// <param name="errno">The errno the call failed with.</param>
    /// <param name="operation">The call, as the message should name it, e.g. <c>recv</c> or <c>epoll_ctl(ADD)</c>.</param>
    /// <param name="fd">The descriptor the call was made on, or -1.</param>
    public PosixException(Errno errno, string operation, int fd = -1)
        : base(Format(errno, operation, fd), (int)errno)
    {
        Errno = errno;
        Operation = operation;
        Fd = fd;
    }

    /// <summary>The errno value the call failed with.</summary>
    public Errno Errno { get; }

    /// <summary>The symbolic errno name (<c>ECONNRESET</c>), or the number when Eddy has no name for it.</summary>
    public string ErrnoName => Enum.IsDefined(Errno) ? Errno.ToString() : "errno " + (int)Errno;

    /// <summary>The call that failed, e.g. <c>epoll_ctl(ADD)</c>.</summary>
    public string Operation { get; }

    /// <summary>The descriptor the call was made on, or -1.</summary>
    public int Fd { get; }

    /// <summary>The equivalent <see cref="System.Net.Sockets.SocketError"/>, for code written against .NET sockets.</summary>
    public SocketError SocketError => Errno switch
    {
        Errno.EAGAIN => SocketError.WouldBlock,
        Errno.EINTR => SocketError.Interrupted,
        Errno.EACCES or Errno.EPERM => SocketError.AccessDenied,
        Errno.EINVAL => SocketError.InvalidArgument,
        Errno.EMFILE or Errno.ENFILE => SocketError.TooManyOpenSockets,
        Errno.EPIPE => SocketError.Shutdown,
        Errno.ENOTSOCK or Errno.EBADF => SocketError.NotSocket,
        Errno.EMSGSIZE => SocketError.MessageSize,
        Errno.EPROTONOSUPPORT or Errno.EPROTOTYPE => SocketError.ProtocolNotSupported,
        Errno.EOPNOTSUPP => SocketError.OperationNotSupported,
        Errno.EAFNOSUPPORT => SocketError.AddressFamilyNotSupported,
        Errno.EADDRINUSE => SocketError.AddressAlreadyInUse,
        Errno.EADDRNOTAVAIL => SocketError.AddressNotAvailable,
        Errno.ENETDOWN => SocketError.NetworkDown,
        Errno.ENETUNREACH => SocketError.NetworkUnreachable,
        Errno.ECONNABORTED => SocketError.ConnectionAborted,
        Errno.ECONNRESET => SocketError.ConnectionReset,
        Errno.ENOBUFS or Errno.ENOMEM => SocketError.NoBufferSpaceAvailable,
        Errno.EISCONN => SocketError.IsConnected,
        Errno.ENOTCONN => SocketError.NotConnected,
        Errno.ETIMEDOUT => SocketError.TimedOut,
        Errno.ECONNREFUSED => SocketError.ConnectionRefused,
        Errno.EHOSTUNREACH => SocketError.HostUnreachable,
        Errno.EALREADY => SocketError.AlreadyInProgress,
        Errno.EINPROGRESS => SocketError.InProgress,
        _ => SocketError.SocketError,
    };

    /// <summary>True for the errors a peer causes on a connection (reset, broken pipe, aborted).</summary>
    public bool IsConnectionLoss => Errno is Errno.ECONNRESET or Errno.EPIPE or Errno.ECONNABORTED or Errno.ETIMEDOUT or Errno.ENOTCONN;

    private static string Format(Errno errno, string operation, int fd)
    {
        string name = Enum.IsDefined(errno) ? errno.ToString() : "errno " + (int)errno;
        string where = fd >= 0 ? $"{operation}(fd {fd})" : operation;
        return $"{where}: {name} ({Marshal.GetPInvokeErrorMessage((int)errno)})";
    }
}
