using System.Net;
using Eddy.Streams;

namespace Eddy.Loop;

// Stream servers across a loop group.
public sealed partial class LoopGroup
{
    /// <summary>
    /// <see cref="EventLoop.StartServer"/> on every loop of the group, each with its own SO_REUSEPORT
    /// listener on the same port; each connection's callback runs on the loop that accepted it.
    /// </summary>
    public Task<GroupServer> StartServerAsync(Func<AsyncStreamReader, AsyncStreamWriter, Task> clientConnected, EndPoint endPoint, int backlog = 511)
    {
        ArgumentNullException.ThrowIfNull(clientConnected);
        return CreateServerOnEachLoopAsync((loop, bindTo, reusePort) => loop.StartServer(clientConnected, bindTo, backlog, reusePort), endPoint);
    }
}
