using System.Net;
using Eddy.Loop;

namespace Eddy.Transports;

/// <summary>
/// Servers across a <see cref="LoopGroup"/>: one listener per loop on the same port (SO_REUSEPORT). Extension
/// members of this layer, beside <see cref="EventLoopTransportExtensions"/>, so the group itself (in
/// <c>Eddy.Loop</c>) knows nothing of servers.
/// </summary>
public static class LoopGroupTransportExtensions
{
    extension(LoopGroup group)
    {
        /// <summary>
        /// Listens on <paramref name="endPoint"/> on every loop of the group, each loop with its own
        /// SO_REUSEPORT listener, so the kernel balances new connections and each connection stays on the
        /// loop that accepted it. Port 0 picks one free port, shared by all loops. Start the group first.
        /// </summary>
        public Task<GroupServer> CreateServerAsync(Func<Protocol> protocolFactory, EndPoint endPoint, int backlog = 511)
        {
            ArgumentNullException.ThrowIfNull(protocolFactory);
            return group.CreateServerOnEachLoopAsync((loop, bindTo, reusePort) => loop.CreateServer(protocolFactory, bindTo, backlog, reusePort), endPoint);
        }

        /// <summary>
        /// Runs <paramref name="createServer"/> on each loop's thread, in turn: the first loop binds
        /// <paramref name="endPoint"/> (resolving port 0), the others join the port it got.
        /// </summary>
        internal async Task<GroupServer> CreateServerOnEachLoopAsync(Func<EventLoop, EndPoint, bool, Server> createServer, EndPoint endPoint)
        {
            // Work sent to a loop that does not run would wait forever: say so instead of hanging.
            group.ThrowIfNotRunning("create a server on it");
            var servers = new List<(EventLoop, Server)>();
            bool reusePort = group.Count > 1;
            try
            {
                foreach (EventLoop loop in group.Loops)
                {
                    EndPoint bindTo = endPoint;
                    Server server = await LoopGroup.InvokeAsync(loop, () => createServer(loop, bindTo, reusePort));
                    servers.Add((loop, server));
                    endPoint = server.EndPoints[0]; // port 0 resolved: the other loops join the same port
                }
            }
            catch
            {
                await Task.WhenAll(servers.Select(s => LoopGroup.InvokeAsync(s.Item1, () => { s.Item2.Close(); return true; })));
                throw;
            }
            return new GroupServer(servers);
        }
    }
}
