using System.Net;
using System.Net.Sockets;
using Eddy.Interop;
using Eddy.Sockets;

namespace Eddy.UnitTests.TestSupport;

/// <summary>
/// Two connected non-blocking TCP sockets over 127.0.0.1, made with <see cref="NativeSocket"/> alone
/// (listener on port 0, non-blocking connect, accept once the handshake is done). Disposing closes both.
/// </summary>
internal sealed class SocketPair : IDisposable
{
    public static readonly IPEndPoint AnyLoopback = new(IPAddress.Loopback, 0);

    private SocketPair(NativeSocket client, NativeSocket server)
    {
        Client = client;
        Server = server;
    }

    public NativeSocket Client { get; }

    public NativeSocket Server { get; }

    public static SocketPair Create()
    {
        using NativeSocket listener = NativeSocket.CreateListener(AnyLoopback, backlog: 1);
        NativeSocket client = NativeSocket.Create(AddressFamily.InterNetwork);
        try
        {
            Errno errno = client.Connect(listener.LocalEndPoint!);
            if (errno is not (Errno.None or Errno.EINPROGRESS))
            {
                throw new PosixException(errno, "connect", client.Fd);
            }
            // accept(2) only hands out connections whose handshake finished, so after it the client is connected too.
            WaitFor(listener.Fd, Libc.POLLIN, "the connection to be accepted");
            NativeSocket server = listener.Accept(out errno) ?? throw new PosixException(errno, "accept", listener.Fd);
            return new SocketPair(client, server);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Waits (with poll(2), bounded by <see cref="TestTimeouts.Wait"/>) until <paramref name="fd"/> has unread data.</summary>
    public static void WaitReadable(int fd) => WaitFor(fd, Libc.POLLIN, $"fd {fd} to become readable");

    /// <summary>Waits (with poll(2), bounded) until <paramref name="fd"/> has room to send.</summary>
    public static void WaitWritable(int fd) => WaitFor(fd, Libc.POLLOUT, $"fd {fd} to become writable");

    /// <summary>Sends all of <paramref name="data"/> without a loop, waiting for room with poll(2) when needed.</summary>
    public static void SendAll(NativeSocket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int n = socket.Send(data, out Errno errno);
            if (n == -1)
            {
                if (errno != Errno.EAGAIN)
                {
                    throw new PosixException(errno, "send", socket.Fd);
                }
                WaitFor(socket.Fd, Libc.POLLOUT, $"fd {socket.Fd} to become writable");
                continue;
            }
            data = data[n..];
        }
    }

    private static void WaitFor(int fd, short events, string what)
    {
        Span<Libc.PollFd> fds = [new Libc.PollFd { Fd = fd, Events = events }];
        long deadline = Environment.TickCount64 + (long)TestTimeouts.Wait.TotalMilliseconds;
        while (true)
        {
            long left = deadline - Environment.TickCount64;
            int n = left <= 0 ? 0 : Libc.Poll(fds, (int)left);
            if (n > 0)
            {
                return;
            }
            if (n == -1 && Libc.LastErrno() != Errno.EINTR) // the runtime's signals may interrupt poll(2)
            {
                Libc.ThrowFor("poll", fd);
            }
            if (n == 0)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }
        }
    }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
    }
}
