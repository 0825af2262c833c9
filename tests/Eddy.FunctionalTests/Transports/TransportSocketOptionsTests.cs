using System.Net;
using Eddy.Loop;
using Eddy.Transports;

namespace Eddy.FunctionalTests.Transports;

public class TransportSocketOptionsTests
{
    [Fact]
    public async Task TcpTransportsHaveNoDelayOnAndExposeTheirSocketForOptions()
    {
        bool serverNoDelay = false;
        bool clientNoDelay = false;
        await Task.Run(() => EventLoop.Run(async loop =>
        {
            // Continuations in a later tick: the rest of the test must not run inside the server's ConnectionMade.
            var accepted = new TaskCompletionSource<Transport>(TaskCreationOptions.RunContinuationsAsynchronously);
            Server server = loop.CreateServer(() => new Capture(accepted), new IPEndPoint(IPAddress.Loopback, 0));
            (Transport client, _) = await loop.ConnectAsync(() => new Protocol0(), server.EndPoints[0]);
            Transport serverSide = await accepted.Task;

            serverNoDelay = serverSide.Socket!.NoDelay;
            clientNoDelay = client.Socket!.NoDelay;
            client.Socket.KeepAlive = true;
            Assert.True(client.Socket.KeepAlive);

            client.Close();
            server.Close();
            server.AbortClients();
            await server.WaitClosedAsync();
        })).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(serverNoDelay);
        Assert.True(clientNoDelay);
    }

    private sealed class Protocol0 : Protocol;

    private sealed class Capture(TaskCompletionSource<Transport> accepted) : Protocol
    {
        public override void ConnectionMade(Transport transport) => accepted.TrySetResult(transport);
    }
}
