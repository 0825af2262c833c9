using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Eddy.Transports;

namespace Eddy.FunctionalTests.Transports;

/// <summary>A server's life: accepting, counting connections, Close and WaitClosedAsync, CloseClients and AbortClients.</summary>
public class ServerTests
{
    private static readonly IPEndPoint AnyLoopbackPort = new(IPAddress.Loopback, 0);

    [Fact]
    public async Task AfterCloseThePortCanBeBoundAgainAtOnce()
    {
        // Within the same callback, before the loop waits again: on io_uring the listener's accept request holds the
        // socket until its cancellation lands, so Close must stop the listening itself.
        using var loop = new LoopThread();
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => new EchoProtocol(), AnyLoopbackPort));
        using Socket first = await Client.ConnectAsync(server.EndPoints[0]); // the listener has accepted once
        await TestData.WaitUntilAsync(async () => await loop.Invoke(() => server.ConnectionCount) == 1, "the connection accepted");

        bool rebound = await loop.Invoke(() =>
        {
            server.Close();
            using var again = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            again.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            again.Bind(server.EndPoints[0]);
            again.Listen();
            return true;
        });

        Assert.True(rebound);
        await loop.Invoke(server.CloseClients);
        await server.WaitClosedAsync().WaitAsync(TestTimeouts.Wait);
        loop.AssertNoLoopErrors();
    }

    [Fact]
    public async Task CloseStopsAcceptingWhileLiveConnectionsKeepWorkingAndWaitClosedWaitsForTheLastOne()
    {
        using var loop = new LoopThread();
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => new EchoProtocol(), AnyLoopbackPort));
        EndPoint endPoint = server.EndPoints[0];
        Assert.NotEqual(0, server.Port);
        Assert.True(await loop.Invoke(() => server.IsServing));

        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                clients.Add(await Client.ConnectAsync(endPoint));
                Assert.True(await Client.EchoesAsync(clients[i], (byte)i, TestTimeouts.Wait));
            }
            Assert.Equal(3, await loop.Invoke(() => server.ConnectionCount));

            Task closed = await loop.Invoke(() =>
            {
                server.Close();
                server.Close(); // idempotent
                return server.WaitClosedAsync();
            });
            Assert.False(await loop.Invoke(() => server.IsServing));
            var refused = await Assert.ThrowsAsync<SocketException>(() => Client.ConnectAsync(endPoint));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
            foreach (Socket client in clients)
            {
                Assert.True(await Client.EchoesAsync(client, 42, TestTimeouts.Wait), "a live connection stopped working when the server closed");
            }
            await loop.SettleAsync();
            Assert.False(closed.IsCompleted, "WaitClosedAsync completed while three connections were live");

            // One client leaves: two remain, the server is still not done.
            clients[0].Shutdown(SocketShutdown.Send);
            Assert.Empty((await Client.ReceiveToEndAsync(clients[0])).Data);
            await TestData.WaitUntilAsync(async () => await loop.Invoke(() => server.ConnectionCount) == 2, "the first client's connection is gone");
            await loop.SettleAsync();
            Assert.False(closed.IsCompleted, "WaitClosedAsync completed while two connections were live");

            // CloseClients ends the rest: each client sees a clean EOF, then the server is done.
            await loop.Invoke(server.CloseClients);
            foreach (Socket client in clients.Skip(1))
            {
                (byte[] data, bool reset) = await Client.ReceiveToEndAsync(client);
                Assert.Empty(data);
                Assert.False(reset);
            }
            await LoopThread.WhenDone(closed);
            Assert.Equal(0, await loop.Invoke(() => server.ConnectionCount));
            loop.AssertNoLoopErrors();
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task WaitClosedCompletesAtCloseWhenNoConnectionIsLive()
    {
        using var loop = new LoopThread();
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => new EchoProtocol(), AnyLoopbackPort));
        using (Socket client = await Client.ConnectAsync(server.EndPoints[0]))
        {
            Assert.True(await Client.EchoesAsync(client, 1, TestTimeouts.Wait));
        }
        await TestData.WaitUntilAsync(async () => await loop.Invoke(() => server.ConnectionCount) == 0, "the connection is gone");

        Task closed = await loop.Invoke(() => server.WaitClosedAsync());
        await loop.SettleAsync();
        Assert.False(closed.IsCompleted, "WaitClosedAsync completed before Close");
        await loop.Invoke(server.Close);
        await LoopThread.WhenDone(closed);
        loop.AssertNoLoopErrors();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CloseClientsSendsWhatEachConnectionBufferedWhileAbortClientsDropsIt(bool abort)
    {
        using var loop = new LoopThread();
        // Abort drops what the transport still holds; what the kernel already took still goes (a close, not a reset),
        // and on io_uring the kernel may have taken a send of all it could before the abort. So the greeting is
        // twice what one socket's send buffer can grow to (tcp_wmem's maximum) and can never be taken whole.
        byte[] greeting = TestData.Bytes((int)Math.Max(4 << 20, 2 * TestData.KernelBufferMax("tcp_wmem")), seed: 9);
        var protocols = new ConcurrentQueue<GreeterProtocol>();
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() =>
        {
            var protocol = new GreeterProtocol(greeting);
            protocols.Enqueue(protocol);
            return protocol;
        }, AnyLoopbackPort));

        using Socket first = await Client.ConnectAsync(server.EndPoints[0], receiveBufferSize: 64 * 1024);
        using Socket second = await Client.ConnectAsync(server.EndPoints[0], receiveBufferSize: 64 * 1024);
        await TestData.WaitUntilAsync(async () => await loop.Invoke(() => server.ConnectionCount) == 2, "both connections are accepted");
        Assert.All(await loop.Invoke(() => protocols.Select(p => p.Transport.WriteBufferSize).ToArray()), buffered => Assert.True(buffered > 0));

        await loop.Invoke(abort ? server.AbortClients : server.CloseClients);
        if (abort)
        {
            // Nothing waits for the clients to read.
            Exception?[] lost = await Task.WhenAll(protocols.Select(p => p.Lost.Task)).WaitAsync(TestTimeouts.Wait);
            Assert.All(lost, Assert.Null);
            Assert.Equal(0, await loop.Invoke(() => server.ConnectionCount));
        }
        foreach (Socket client in new[] { first, second })
        {
            (byte[] received, bool _) = await Client.ReceiveToEndAsync(client, resetIsEnd: abort);
            if (abort)
            {
                Assert.True(received.Length < greeting.Length, "AbortClients still sent everything");
                Assert.True(greeting.AsSpan(0, received.Length).SequenceEqual(received));
            }
            else
            {
                Assert.True(greeting.AsSpan().SequenceEqual(received), $"got {received.Length} of {greeting.Length} bytes, or different ones");
            }
        }
        Assert.All(await Task.WhenAll(protocols.Select(p => p.Lost.Task)).WaitAsync(TestTimeouts.Wait), Assert.Null);
        Assert.Equal(0, await loop.Invoke(() => server.ConnectionCount));

        // Neither closes the server itself.
        Assert.True(await loop.Invoke(() => server.IsServing));
        using (Socket third = await Client.ConnectAsync(server.EndPoints[0]))
        {
            Assert.Equal(greeting.Length, (await Client.ReceiveExactlyAsync(third, greeting.Length)).Length);
        }
        Task closed = await loop.Invoke(() =>
        {
            server.Close();
            server.AbortClients();
            return server.WaitClosedAsync();
        });
        await LoopThread.WhenDone(closed);
        Assert.All(protocols, p => Assert.Empty(p.Violations));
        loop.AssertNoLoopErrors();
    }

    private sealed class GreeterProtocol(byte[] greeting) : RecordingProtocol
    {
        protected override void OnConnectionMade(Transport transport) => transport.Write(greeting);
    }
}
