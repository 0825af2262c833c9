using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Eddy.Loop;
using Eddy.Transports;

namespace Eddy.FunctionalTests.Transports;

/// <summary>Client connections made by the loop (CreateConnectionAsync, ConnectAsync), each test on a loop of its own run by <see cref="EventLoop.Run(Func{EventLoop, Task}, EventLoopOptions?)"/>.</summary>
public class EventLoopConnectionTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ConnectingToAPortWithNothingListeningFailsWithConnectionRefusedAndTheLoopCarriesOn()
    {
        // Bound but never listening: the port stays ours, and every connect to it is refused.
        using var reserved = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        reserved.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)reserved.LocalEndPoint!).Port;
        var errors = new ConcurrentQueue<LoopExceptionContext>();

        await Task.Run(() => EventLoop.Run(async loop =>
        {
            loop.ExceptionHandler = (_, context) => errors.Enqueue(context);
            int factoryCalls = 0;
            Func<RecordingProtocol> factory = () =>
            {
                factoryCalls++;
                return new RecordingProtocol();
            };
            for (int i = 0; i < 3; i++)
            {
                var refused = await Assert.ThrowsAsync<PosixException>(async () => await loop.CreateConnectionAsync(factory, "127.0.0.1", port));
                Assert.Equal(Errno.ECONNREFUSED, refused.Errno);
            }
            var viaLocalhost = await Assert.ThrowsAsync<PosixException>(async () => await loop.CreateConnectionAsync(factory, "localhost", port));
            Assert.Equal(Errno.ECONNREFUSED, viaLocalhost.Errno);
            var viaEndPoint = await Assert.ThrowsAsync<PosixException>(async () => await loop.ConnectAsync(factory, new IPEndPoint(IPAddress.Loopback, port)));
            Assert.Equal(Errno.ECONNREFUSED, viaEndPoint.Errno);
            Assert.Equal(0, factoryCalls);

            // The loop is healthy: timers fire, and a server and a connection on it work both ways.
            await loop.Delay(TimeSpan.FromMilliseconds(10));
            var serverSide = new TaskCompletionSource<EchoProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
            Server server = loop.CreateServer(() =>
            {
                var echo = new EchoProtocol();
                serverSide.TrySetResult(echo);
                return echo;
            }, new IPEndPoint(IPAddress.Loopback, 0));
            (Transport transport, RecordingProtocol client) = await loop.CreateConnectionAsync(factory, "localhost", server.Port);
            Assert.Equal(1, factoryCalls);
            Assert.Equal(["made"], client.Events);
            Assert.Equal(server.EndPoints[0], transport.RemoteEndPoint);
            transport.Write("ping"u8);
            await client.WhenReceived(4).WaitAsync(TestTimeouts.Wait);
            Assert.Equal("ping", Encoding.ASCII.GetString(client.Received));

            transport.WriteEof(); // the echo server closes at our EOF: we see EOF, then the loss
            await client.Eof.Task.WaitAsync(TestTimeouts.Wait);
            Assert.Null(await client.Lost.Task.WaitAsync(TestTimeouts.Wait));
            Assert.Null(await (await serverSide.Task).Lost.Task.WaitAsync(TestTimeouts.Wait));
            Assert.Empty(client.Violations);
            server.Close();
            await server.WaitClosedAsync().WaitAsync(TestTimeouts.Wait);
        })).WaitAsync(TestTimeout);

        Assert.Empty(errors);
    }

    [Fact]
    public async Task AProtocolFactoryThatThrowsFailsTheConnectAndClosesTheSocket()
    {
        var errors = new ConcurrentQueue<LoopExceptionContext>();
        await Task.Run(() => EventLoop.Run(async loop =>
        {
            loop.ExceptionHandler = (_, context) => errors.Enqueue(context);
            var serverSide = new TaskCompletionSource<RecordingProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
            Server server = loop.CreateServer(() =>
            {
                var protocol = new RecordingProtocol();
                serverSide.TrySetResult(protocol);
                return protocol;
            }, new IPEndPoint(IPAddress.Loopback, 0));

            var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
                await loop.CreateConnectionAsync<RecordingProtocol>(() => throw new InvalidOperationException("no protocol today"), "127.0.0.1", server.Port));
            Assert.Equal("no protocol today", thrown.Message);

            // The half-made connection must be closed now, not whenever the finalizer runs: the server sees EOF.
            RecordingProtocol accepted = await serverSide.Task.WaitAsync(TestTimeouts.Wait);
            await accepted.Eof.Task.WaitAsync(TestTimeouts.Wait);
            Assert.Null(await accepted.Lost.Task.WaitAsync(TestTimeouts.Wait));
            server.Close();
            await server.WaitClosedAsync().WaitAsync(TestTimeouts.Wait);
        })).WaitAsync(TestTimeout);

        Assert.Empty(errors);
    }
}
