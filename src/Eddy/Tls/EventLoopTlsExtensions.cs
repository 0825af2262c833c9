using System.Net;
using Eddy.Loop;
using Eddy.Transports;

namespace Eddy.Tls;

/// <summary>
/// TLS servers and connections (asyncio's <c>ssl=</c> on <c>create_server</c> and <c>create_connection</c>):
/// the transports layer's members with <see cref="TlsServerOptions"/> or <see cref="TlsClientOptions"/>, whose
/// protocols see a <see cref="TlsTransport"/>. Loop thread only.
/// </summary>
public static class EventLoopTlsExtensions
{
    extension(EventLoop loop)
    {
        /// <summary>
        /// Listens on <paramref name="endPoint"/> and speaks TLS on each connection accepted; a new protocol from
        /// <paramref name="protocolFactory"/> runs over it once its handshake has succeeded (its transport is a
        /// <see cref="TlsTransport"/>). A handshake that fails or times out closes that connection only.
        /// </summary>
        public Server CreateServer(Func<Protocol> protocolFactory, EndPoint endPoint, TlsServerOptions tls, int backlog = 511, bool reusePort = false)
        {
            ArgumentNullException.ThrowIfNull(protocolFactory);
            ArgumentNullException.ThrowIfNull(tls);
            tls.Validate();
            return loop.CreateServer(() => TlsTransport.CreateServerProtocol(loop, protocolFactory(), tls), endPoint, backlog, reusePort);
        }

        /// <summary>
        /// Connects to <paramref name="host"/>:<paramref name="port"/>, completes a TLS handshake as
        /// <paramref name="tls"/> says (the server's name defaults to <paramref name="host"/>), and runs the
        /// protocol over it. Fails with the handshake's error (e.g. <see cref="System.Security.Authentication.AuthenticationException"/>
        /// for a certificate that does not validate) after closing the connection.
        /// </summary>
        public async ValueTask<(TlsTransport Transport, TProtocol Protocol)> CreateConnectionAsync<TProtocol>(
            Func<TProtocol> protocolFactory, string host, int port, TlsClientOptions tls, CancellationToken cancellationToken = default)
            where TProtocol : Protocol
        {
            ArgumentNullException.ThrowIfNull(protocolFactory);
            ArgumentNullException.ThrowIfNull(tls);
            TProtocol? application = null;
            (Transport connection, TlsTransport.RecordProtocol records) = await loop.CreateConnectionAsync(
                () => TlsTransport.CreateClientProtocol(loop, application = protocolFactory(), tls, host), host, port, cancellationToken);
            await HandshakeAsync(connection, records.Transport, cancellationToken);
            return (records.Transport, application!);
        }

        /// <summary>
        /// Like the TLS <c>CreateConnectionAsync</c> above,
        /// to an address already resolved: the server's name for SNI and the certificate check is
        /// <see cref="TlsClientOptions.ServerName"/>, or the address itself when that is null.
        /// </summary>
        public async ValueTask<(TlsTransport Transport, TProtocol Protocol)> ConnectAsync<TProtocol>(
            Func<TProtocol> protocolFactory, EndPoint endPoint, TlsClientOptions tls, CancellationToken cancellationToken = default)
            where TProtocol : Protocol
        {
            ArgumentNullException.ThrowIfNull(protocolFactory);
            ArgumentNullException.ThrowIfNull(endPoint);
            ArgumentNullException.ThrowIfNull(tls);
            string host = endPoint is IPEndPoint ip ? ip.Address.ToString() : endPoint.ToString() ?? "";
            TProtocol? application = null;
            (Transport connection, TlsTransport.RecordProtocol records) = await loop.ConnectAsync(
                () => TlsTransport.CreateClientProtocol(loop, application = protocolFactory(), tls, host), endPoint, cancellationToken);
            await HandshakeAsync(connection, records.Transport, cancellationToken);
            return (records.Transport, application!);
        }
    }

    private static async Task HandshakeAsync(Transport connection, TlsTransport transport, CancellationToken cancellationToken)
    {
        Task connected = transport.WaitConnectedAsync();
        try
        {
            await connected.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            connection.Abort();
            // The handshake fails once the abort lands, with nobody left to hear it: observe it here.
            _ = connected.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }
}
