using System.Net;
using System.Net.Sockets;
using Eddy.Loop;
using Eddy.Streams.Internal;
using Eddy.Tls;
using Eddy.Transports;

namespace Eddy.Streams;

/// <summary>
/// Servers and connections as reader/writer pairs (asyncio's <c>start_server</c> and <c>open_connection</c>,
/// which asyncio too keeps in its streams module, over the loop's <c>create_server</c>): extension members
/// of <see cref="EventLoop"/> that a caller sees by importing <c>Eddy.Streams</c>. Loop thread only.
/// </summary>
public static class EventLoopStreamExtensions
{
    extension(EventLoop loop)
    {
        /// <summary>
        /// Listens on <paramref name="endPoint"/> and calls <paramref name="clientConnected"/> with a
        /// reader/writer pair for each connection accepted. The callback runs on the loop thread (inline, up to
        /// its first await; its continuations on the loop too). When the task it returns ends, the connection
        /// is closed (after sending what is buffered); an exception from it goes to
        /// <see cref="EventLoop.CallExceptionHandler"/> first. Port 0 picks a free port (see <see cref="Server.EndPoints"/>).
        /// </summary>
        public Server StartServer(Func<AsyncStreamReader, AsyncStreamWriter, Task> clientConnected, EndPoint endPoint, int backlog = 511, bool reusePort = false)
        {
            ArgumentNullException.ThrowIfNull(clientConnected);
            return loop.CreateServer(() => new StreamReaderProtocol(loop, clientConnected), endPoint, backlog, reusePort);
        }

        /// <summary>Like <c>StartServer</c>, speaking TLS as <paramref name="tls"/> says: the callback runs once a
        /// connection's handshake has succeeded, and reads and writes plaintext.</summary>
        public Server StartServer(Func<AsyncStreamReader, AsyncStreamWriter, Task> clientConnected, EndPoint endPoint, TlsServerOptions tls, int backlog = 511, bool reusePort = false)
        {
            ArgumentNullException.ThrowIfNull(clientConnected);
            return loop.CreateServer(() => new StreamReaderProtocol(loop, clientConnected), endPoint, tls, backlog, reusePort);
        }

        /// <summary>Like <c>StartServer</c>, resolving <paramref name="host"/> first (an IP literal, "localhost", or a name).</summary>
        public ValueTask<Server> StartServerAsync(Func<AsyncStreamReader, AsyncStreamWriter, Task> clientConnected, string host, int port, int backlog = 511, bool reusePort = false)
        {
            ArgumentNullException.ThrowIfNull(clientConnected);
            return loop.CreateServerAsync(() => new StreamReaderProtocol(loop, clientConnected), host, port, backlog, reusePort);
        }

        /// <summary>Like <c>StartServer</c>, on a Unix domain socket at <paramref name="path"/>; a stale socket file there is replaced.</summary>
        public Server StartUnixServer(Func<AsyncStreamReader, AsyncStreamWriter, Task> clientConnected, string path, int backlog = 511)
        {
            ArgumentNullException.ThrowIfNull(clientConnected);
            return loop.CreateUnixServer(() => new StreamReaderProtocol(loop, clientConnected), path, backlog);
        }

        /// <summary>
        /// Connects to <paramref name="host"/>:<paramref name="port"/> (trying each resolved address in turn)
        /// and returns the connection's reader and writer.
        /// </summary>
        public async ValueTask<(AsyncStreamReader Reader, AsyncStreamWriter Writer)> OpenConnectionAsync(string host, int port, CancellationToken cancellationToken = default)
        {
            (_, StreamReaderProtocol protocol) = await loop.CreateConnectionAsync(() => new StreamReaderProtocol(loop, null), host, port, cancellationToken);
            return (protocol.Reader, protocol.Writer);
        }

        /// <summary>Like the plain <c>OpenConnectionAsync(host, port)</c>, then completes a TLS handshake as
        /// <paramref name="tls"/> says: the reader and writer carry plaintext.</summary>
        public async ValueTask<(AsyncStreamReader Reader, AsyncStreamWriter Writer)> OpenConnectionAsync(string host, int port, TlsClientOptions tls, CancellationToken cancellationToken = default)
        {
            (_, StreamReaderProtocol protocol) = await loop.CreateConnectionAsync(() => new StreamReaderProtocol(loop, null), host, port, tls, cancellationToken);
            return (protocol.Reader, protocol.Writer);
        }

        /// <summary>Connects to <paramref name="endPoint"/> (IP or Unix) and returns the connection's reader and writer.</summary>
        public async ValueTask<(AsyncStreamReader Reader, AsyncStreamWriter Writer)> OpenConnectionAsync(EndPoint endPoint, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(endPoint);
            (_, StreamReaderProtocol protocol) = await loop.ConnectAsync(() => new StreamReaderProtocol(loop, null), endPoint, cancellationToken);
            return (protocol.Reader, protocol.Writer);
        }

        /// <summary>Connects to the Unix domain socket at <paramref name="path"/> and returns the connection's reader and writer.</summary>
        public ValueTask<(AsyncStreamReader Reader, AsyncStreamWriter Writer)> OpenUnixConnectionAsync(string path, CancellationToken cancellationToken = default)
        {
            ArgumentException.ThrowIfNullOrEmpty(path);
            return loop.OpenConnectionAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
        }
    }
}
