using System.Net;
using Eddy.Loop;
using Eddy.Tls;
using Eddy.Transports;

namespace Eddy.Streams;

/// <summary>Stream servers across a <see cref="LoopGroup"/> (see <see cref="LoopGroupTransportExtensions"/>).</summary>
public static class LoopGroupStreamExtensions
{
    extension(LoopGroup group)
    {
        /// <summary>
        /// <c>StartServer</c> (<see cref="EventLoopStreamExtensions"/>) on every loop of the group, each with its own SO_REUSEPORT
        /// listener on the same port; each connection's callback runs on the loop that accepted it.
        /// </summary>
        public Task<GroupServer> StartServerAsync(Func<AsyncStreamReader, AsyncStreamWriter, Task> clientConnected, EndPoint endPoint, int backlog = 511)
        {
            ArgumentNullException.ThrowIfNull(clientConnected);
            return group.CreateServerOnEachLoopAsync((loop, bindTo, reusePort) => loop.StartServer(clientConnected, bindTo, backlog, reusePort), endPoint);
        }

        /// <summary>Like the plain <c>StartServerAsync</c>, speaking TLS as <paramref name="tls"/> says.</summary>
        public Task<GroupServer> StartServerAsync(Func<AsyncStreamReader, AsyncStreamWriter, Task> clientConnected, EndPoint endPoint, TlsServerOptions tls, int backlog = 511)
        {
            ArgumentNullException.ThrowIfNull(clientConnected);
            ArgumentNullException.ThrowIfNull(tls);
            return group.CreateServerOnEachLoopAsync((loop, bindTo, reusePort) => loop.StartServer(clientConnected, bindTo, tls, backlog, reusePort), endPoint);
        }
    }
}
