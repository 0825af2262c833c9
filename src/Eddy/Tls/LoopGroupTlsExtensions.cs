using System.Net;
using Eddy.Loop;
using Eddy.Transports;

namespace Eddy.Tls;

/// <summary>TLS servers across a <see cref="LoopGroup"/> (see <see cref="LoopGroupTransportExtensions"/>).</summary>
public static class LoopGroupTlsExtensions
{
    extension(LoopGroup group)
    {
        /// <summary><see cref="EventLoopTlsExtensions.CreateServer"/> on every loop of the group, each with its own
        /// SO_REUSEPORT listener on the same port.</summary>
        public Task<GroupServer> CreateServerAsync(Func<Protocol> protocolFactory, EndPoint endPoint, TlsServerOptions tls, int backlog = 511)
        {
            ArgumentNullException.ThrowIfNull(protocolFactory);
            ArgumentNullException.ThrowIfNull(tls);
            tls.Validate();
            return group.CreateServerOnEachLoopAsync((loop, bindTo, reusePort) => loop.CreateServer(protocolFactory, bindTo, tls, backlog, reusePort), endPoint);
        }
    }
}
