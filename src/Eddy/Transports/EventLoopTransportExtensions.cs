using System.Net;
using System.Net.Sockets;
using Eddy.Interop;
using Eddy.Loop;
using Eddy.Sockets;
using Eddy.Transports.Internal;

namespace Eddy.Transports;

/// <summary>
/// The loop's members that make transports (asyncio's <c>loop.create_server</c>, <c>create_connection</c> and
/// <c>create_datagram_endpoint</c>): servers, connections and datagram endpoints on an <see cref="EventLoop"/>.
/// They are extension members of this layer, so the loop's own code never mentions transports and a caller
/// sees them by importing <c>Eddy.Transports</c>, as it must anyway to name a <see cref="Protocol"/>.
/// Loop thread only, as every loop call.
/// </summary>
public static class EventLoopTransportExtensions
{
    extension(EventLoop loop)
    {
        /// <summary>
        /// Listens on <paramref name="endPoint"/> and runs a new protocol from <paramref name="protocolFactory"/>
        /// for each connection accepted. Port 0 picks a free port (see <see cref="Server.EndPoints"/>).
        /// <paramref name="reusePort"/> sets SO_REUSEPORT so several loops can each listen on the same port
        /// and the kernel spreads connections between them.
        /// </summary>
        public Server CreateServer(Func<Protocol> protocolFactory, EndPoint endPoint, int backlog = 511, bool reusePort = false)
        {
            ArgumentNullException.ThrowIfNull(protocolFactory);
            ArgumentNullException.ThrowIfNull(endPoint);
            loop.CheckLoopCall("CreateServer");
            if (endPoint is UnixDomainSocketEndPoint unix)
            {
                RemoveStaleUnixSocket(unix.ToString());
            }
            NativeSocket listener = NativeSocket.CreateListener(endPoint, backlog, reusePort);
            loop.OpenFallbackLog(); // accept may run out of descriptors: the log must not need one then
            return new Server(loop, protocolFactory, [listener], backlog);
        }

        /// <summary>Like <see cref="CreateServer"/>, resolving <paramref name="host"/> first (an IP literal, "localhost", or a name).</summary>
        public async ValueTask<Server> CreateServerAsync(Func<Protocol> protocolFactory, string host, int port, int backlog = 511, bool reusePort = false)
        {
            IPAddress address = (await ResolveAsync(host, CancellationToken.None))[0];
            return loop.CreateServer(protocolFactory, new IPEndPoint(address, port), backlog, reusePort);
        }

        /// <summary>Listens on a Unix domain socket at <paramref name="path"/>; a stale socket file there is replaced.</summary>
        public Server CreateUnixServer(Func<Protocol> protocolFactory, string path, int backlog = 511) =>
            loop.CreateServer(protocolFactory, new UnixDomainSocketEndPoint(path), backlog);

        /// <inheritdoc cref="CreateUnixServer"/>
        public ValueTask<Server> CreateUnixServerAsync(Func<Protocol> protocolFactory, string path, int backlog = 511) =>
            new(loop.CreateUnixServer(protocolFactory, path, backlog));

        /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> (trying each resolved address in turn) and runs <paramref name="protocolFactory"/>'s protocol on the connection.</summary>
        public async ValueTask<(Transport Transport, TProtocol Protocol)> CreateConnectionAsync<TProtocol>(
            Func<TProtocol> protocolFactory, string host, int port, CancellationToken cancellationToken = default)
            where TProtocol : Protocol
        {
            ArgumentNullException.ThrowIfNull(protocolFactory);
            Exception? lastError = null;
            foreach (IPAddress address in await ResolveAsync(host, cancellationToken))
            {
                try
                {
                    return await loop.ConnectAsync(protocolFactory, new IPEndPoint(address, port), cancellationToken);
                }
                catch (PosixException e)
                {
                    lastError = e;
                }
            }
            throw lastError!;
        }

        /// <summary>Connects to the Unix domain socket at <paramref name="path"/>.</summary>
        public ValueTask<(Transport Transport, TProtocol Protocol)> CreateUnixConnectionAsync<TProtocol>(
            Func<TProtocol> protocolFactory, string path, CancellationToken cancellationToken = default)
            where TProtocol : Protocol
        {
            ArgumentNullException.ThrowIfNull(protocolFactory);
            return loop.ConnectAsync(protocolFactory, new UnixDomainSocketEndPoint(path), cancellationToken);
        }

        /// <summary>Connects to <paramref name="endPoint"/> and runs a protocol on the connection.</summary>
        public async ValueTask<(Transport Transport, TProtocol Protocol)> ConnectAsync<TProtocol>(
            Func<TProtocol> protocolFactory, EndPoint endPoint, CancellationToken cancellationToken = default)
            where TProtocol : Protocol
        {
            NativeSocket socket = NativeSocket.Create(endPoint.AddressFamily);
            try
            {
                await loop.SockConnectAsync(socket, endPoint, cancellationToken);
                socket.TrySetNoDelay();
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            // The awaitables registered the fd lazily; the transport registers it afresh with its own callbacks.
            if (socket.LoopState is { } state)
            {
                socket.LoopState = null;
                state.Dispose();
            }
            TProtocol protocol;
            try
            {
                protocol = protocolFactory();
            }
            catch
            {
                socket.Dispose(); // else the connected socket stays open until the finalizer runs
                throw;
            }
            var transport = new SocketTransport(loop, socket, protocol, owner: null);
            transport.Start();
            return (transport, protocol);
        }

        /// <summary>
        /// Opens a datagram socket bound to <paramref name="local"/> (null: an ephemeral port) and, when
        /// <paramref name="remote"/> is given, connected to it, and runs the protocol on it. At least one is required.
        /// </summary>
        public (DatagramTransport Transport, TProtocol Protocol) CreateDatagramEndpoint<TProtocol>(
            Func<TProtocol> protocolFactory, EndPoint? local = null, EndPoint? remote = null)
            where TProtocol : DatagramProtocol
        {
            ArgumentNullException.ThrowIfNull(protocolFactory);
            loop.CheckLoopCall("CreateDatagramEndpoint");
            EndPoint family = local ?? remote ?? throw new ArgumentException("A datagram endpoint needs a local address, a remote address, or both.");
            NativeSocket socket = NativeSocket.Create(family.AddressFamily, SocketType.Dgram);
            try
            {
                if (local is not null)
                {
                    socket.Bind(local);
                }
                if (remote is not null)
                {
                    Errno errno = socket.Connect(remote); // for UDP, connect only sets the default peer: it never blocks
                    if (errno != Errno.None)
                    {
                        throw new PosixException(errno, $"connect to {remote}", socket.Fd);
                    }
                }
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            TProtocol protocol;
            try
            {
                protocol = protocolFactory();
            }
            catch
            {
                socket.Dispose(); // else the bound port stays taken until the finalizer runs
                throw;
            }
            var transport = new DatagramTransport(loop, socket, protocol, remote);
            transport.Start();
            return (transport, protocol);
        }
    }

    private static async ValueTask<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        if (IPAddress.TryParse(host, out IPAddress? literal))
        {
            return [literal];
        }
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return [IPAddress.Loopback];
        }
        // getaddrinfo blocks, so it runs on the thread pool (as asyncio runs it in an executor); the
        // await resumes on the loop through its synchronization context.
        IPAddress[] addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
        return addresses.Length > 0 ? addresses : throw new SocketException((int)SocketError.HostNotFound);
    }

    private static void RemoveStaleUnixSocket(string path)
    {
        // Abstract sockets (leading NUL or '@') have no file. A leftover socket file from a previous run
        // would make bind fail with EADDRINUSE; anything that is not a socket is left alone.
        if (path.Length == 0 || path[0] == '\0' || path[0] == '@')
        {
            return;
        }
        try
        {
            if (File.Exists(path) && Libc.IsSocketFile(path))
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
        }
    }
}
