using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Eddy.Loop;
using Eddy.Transports;

namespace Eddy.FunctionalTests.Transports;

/// <summary>UDP endpoints on loopback: echo, connected peers, and errors reported without closing.</summary>
public class DatagramTransportTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(20);
    private static readonly IPEndPoint AnyLoopbackPort = new(IPAddress.Loopback, 0);

    [Fact]
    public async Task AServerEchoesEveryDatagramBackToItsSenderWithBoundariesKept()
    {
        const int Count = 50;
        await RunOnLoopAsync(async loop =>
        {
            (DatagramTransport serverTransport, EchoDatagramProtocol server) = loop.CreateDatagramEndpoint(() => new EchoDatagramProtocol(), local: AnyLoopbackPort);
            EndPoint serverEndPoint = serverTransport.LocalEndPoint!;
            Assert.NotEqual(0, ((IPEndPoint)serverEndPoint).Port);
            Assert.Null(serverTransport.RemoteEndPoint);

            (DatagramTransport clientTransport, CollectingDatagramProtocol client) = loop.CreateDatagramEndpoint(() => new CollectingDatagramProtocol(Count), remote: serverEndPoint);
            Assert.Equal(serverEndPoint, clientTransport.RemoteEndPoint);
            Assert.Same(clientTransport, client.Transport);

            var random = new Random(1);
            string[] sent = Enumerable.Range(0, Count).Select(i => $"{i}:" + new string((char)('a' + i % 26), random.Next(0, 1200))).ToArray();
            foreach (string message in sent)
            {
                clientTransport.SendTo(Encoding.ASCII.GetBytes(message));
            }
            await client.All.Task.WaitAsync(TestTimeouts.Wait);

            Assert.Equal(sent.Order(), client.Received.Order());
            Assert.All(client.Senders, s => Assert.Equal(serverEndPoint, s));
            Assert.All(server.Senders, s => Assert.Equal(clientTransport.LocalEndPoint, s));
            Assert.Empty(client.Errors);
            Assert.Empty(server.Errors);

            clientTransport.Close();
            serverTransport.Close();
            Assert.True(clientTransport.IsClosing);
            Assert.Null(await client.Lost.Task.WaitAsync(TestTimeouts.Wait));
            Assert.Null(await server.Lost.Task.WaitAsync(TestTimeouts.Wait));
            await loop.Delay(TimeSpan.FromMilliseconds(10));
            Assert.Equal(1, client.LostCalls);
            Assert.Equal(1, server.LostCalls);
        });
    }

    [Fact]
    public async Task SendingToAConnectedPeerWithNothingListeningReportsConnectionRefusedAndTheEndpointStaysOpen()
    {
        // A UDP port that was just ours and is now free: datagrams to it draw an ICMP port unreachable.
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(AnyLoopbackPort);
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        var deadPeer = new IPEndPoint(IPAddress.Loopback, port);

        await RunOnLoopAsync(async loop =>
        {
            (DatagramTransport transport, CollectingDatagramProtocol client) = loop.CreateDatagramEndpoint(() => new CollectingDatagramProtocol(1), remote: deadPeer);

            // The error comes back asynchronously, on a later receive or send: poll a few times.
            for (int i = 0; i < 40 && client.Errors.IsEmpty; i++)
            {
                transport.SendTo("anyone?"u8);
                await loop.Delay(TimeSpan.FromMilliseconds(25));
            }
            Assert.False(client.Errors.IsEmpty, "ErrorReceived was not called");
            Assert.All(client.Errors, e => Assert.Equal(Errno.ECONNREFUSED, Assert.IsType<PosixException>(e).Errno));
            Assert.False(transport.IsClosing);
            Assert.False(client.Lost.Task.IsCompleted);

            // Still usable: once someone listens there, the same endpoint gets its answer.
            (DatagramTransport echoTransport, EchoDatagramProtocol _) = loop.CreateDatagramEndpoint(() => new EchoDatagramProtocol(), local: deadPeer);
            for (int i = 0; i < 40 && !client.All.Task.IsCompleted; i++)
            {
                transport.SendTo("anyone?"u8);
                await loop.Delay(TimeSpan.FromMilliseconds(25));
            }
            await client.All.Task.WaitAsync(TestTimeouts.Wait);
            Assert.Equal("anyone?", client.Received.First());

            transport.Close();
            echoTransport.Close();
            Assert.Null(await client.Lost.Task.WaitAsync(TestTimeouts.Wait));
        });
    }

    [Fact]
    public async Task SendToChecksTheAddressAgainstHowTheEndpointWasMade()
    {
        await RunOnLoopAsync(async loop =>
        {
            (DatagramTransport unconnected, _) = loop.CreateDatagramEndpoint(() => new CollectingDatagramProtocol(1), local: AnyLoopbackPort);
            Assert.Throws<InvalidOperationException>(() => unconnected.SendTo("x"u8));

            (DatagramTransport connected, _) = loop.CreateDatagramEndpoint(() => new CollectingDatagramProtocol(1), remote: unconnected.LocalEndPoint);
            var other = new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)unconnected.LocalEndPoint!).Port + 1);
            Assert.Throws<ArgumentException>(() => connected.SendTo("x"u8, other));
            Assert.Throws<ArgumentException>(() => loop.CreateDatagramEndpoint(() => new CollectingDatagramProtocol(1)));

            connected.Close();
            unconnected.Close();
            await loop.Delay(TimeSpan.FromMilliseconds(1));
        });
    }

    [Fact]
    public async Task AProtocolFactoryThatThrowsLeavesTheAddressFree()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(AnyLoopbackPort);
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        var local = new IPEndPoint(IPAddress.Loopback, port);

        await RunOnLoopAsync(loop =>
        {
            Assert.Throws<InvalidOperationException>(() => loop.CreateDatagramEndpoint<CollectingDatagramProtocol>(() => throw new InvalidOperationException("no protocol"), local: local));
            // The socket bound before the factory ran must be closed at once, not when the finalizer gets to it.
            using var rebind = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            rebind.Bind(local);
            return Task.CompletedTask;
        });
    }

    private static async Task RunOnLoopAsync(Func<EventLoop, Task> test)
    {
        var errors = new ConcurrentQueue<LoopExceptionContext>();
        await Task.Run(() => EventLoop.Run(loop =>
        {
            loop.ExceptionHandler = (_, context) => errors.Enqueue(context);
            return test(loop);
        })).WaitAsync(TestTimeout);
        Assert.Empty(errors);
    }

    private class RecordingDatagramProtocol : DatagramProtocol
    {
        public DatagramTransport Transport { get; private set; } = null!;

        public ConcurrentQueue<EndPoint> Senders { get; } = new();

        public ConcurrentQueue<Exception> Errors { get; } = new();

        public TaskCompletionSource<Exception?> Lost { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int LostCalls { get; private set; }

        public override void ConnectionMade(DatagramTransport transport) => Transport = transport;

        public override void DatagramReceived(ReadOnlySpan<byte> data, EndPoint remote) => Senders.Enqueue(remote);

        public override void ErrorReceived(Exception error) => Errors.Enqueue(error);

        public override void ConnectionLost(Exception? error)
        {
            LostCalls++;
            Lost.TrySetResult(error);
        }
    }

    private sealed class EchoDatagramProtocol : RecordingDatagramProtocol
    {
        public override void DatagramReceived(ReadOnlySpan<byte> data, EndPoint remote)
        {
            base.DatagramReceived(data, remote);
            Transport.SendTo(data, remote);
        }
    }

    private sealed class CollectingDatagramProtocol(int expected) : RecordingDatagramProtocol
    {
        public ConcurrentQueue<string> Received { get; } = new();

        public TaskCompletionSource All { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void DatagramReceived(ReadOnlySpan<byte> data, EndPoint remote)
        {
            base.DatagramReceived(data, remote);
            Received.Enqueue(Encoding.ASCII.GetString(data));
            if (Received.Count >= expected)
            {
                All.TrySetResult();
            }
        }
    }
}
