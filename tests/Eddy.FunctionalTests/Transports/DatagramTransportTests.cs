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
            await TicksAsync(3); // room for a second ConnectionLost, if one were queued
            Assert.Equal(1, client.LostCalls);
            Assert.Equal(1, server.LostCalls);
        });
    }

    [Fact]
    public async Task SendingToAConnectedPeerWithNothingListeningReportsConnectionRefusedAndTheEndpointStaysOpen()
    {
        // A UDP port held for the whole test by a socket connected elsewhere: the kernel hands it no datagram from
        // anyone else, so ours draw an ICMP port unreachable, and no other test can be given the port meanwhile.
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        holder.Bind(AnyLoopbackPort);
        holder.Connect(new IPEndPoint(IPAddress.Loopback, 9));
        var deadPeer = (IPEndPoint)holder.LocalEndPoint!;

        await RunOnLoopAsync(async loop =>
        {
            (DatagramTransport transport, CollectingDatagramProtocol client) = loop.CreateDatagramEndpoint(() => new CollectingDatagramProtocol(1), remote: deadPeer);

            // The error comes back asynchronously, on a later receive or send; ICMP replies are rate-limited, so
            // keep asking until the first error is reported (bounded).
            await SendUntilAsync(loop, transport, client.FirstError.Task);
            Assert.All(client.Errors, e => Assert.Equal(Errno.ECONNREFUSED, Assert.IsType<PosixException>(e).Errno));
            Assert.False(transport.IsClosing);
            Assert.False(client.Lost.Task.IsCompleted);

            // Still usable: once someone listens there, the same endpoint gets its answer.
            holder.Close();
            (DatagramTransport echoTransport, EchoDatagramProtocol _) = loop.CreateDatagramEndpoint(() => new EchoDatagramProtocol(), local: deadPeer);
            await SendUntilAsync(loop, transport, client.All.Task);
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
            await TicksAsync(1); // their ConnectionLost, before the loop closes
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

    /// <summary>Sends "anyone?" every 25 ms (datagrams and ICMP replies may be dropped) until <paramref name="done"/> completes; fails after <see cref="TestTimeouts.Wait"/>.</summary>
    private static async Task SendUntilAsync(EventLoop loop, DatagramTransport transport, Task done)
    {
        TimeSpan deadline = loop.Time + TestTimeouts.Wait;
        while (!done.IsCompleted)
        {
            Assert.True(loop.Time < deadline, $"no answer within {TestTimeouts.Wait}");
            transport.SendTo("anyone?"u8);
            await Task.WhenAny(done, loop.Delay(TimeSpan.FromMilliseconds(25)).AsTask());
        }
    }

    /// <summary>A few ticks of the loop this runs on (each await posts its continuation to the next tick).</summary>
    private static async Task TicksAsync(int count)
    {
        for (int i = 0; i < count; i++)
        {
            await Task.Yield();
        }
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

        public TaskCompletionSource FirstError { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int LostCalls { get; private set; }

        public override void ConnectionMade(DatagramTransport transport) => Transport = transport;

        public override void DatagramReceived(ReadOnlySpan<byte> data, EndPoint remote) => Senders.Enqueue(remote);

        public override void ErrorReceived(Exception error)
        {
            Errors.Enqueue(error);
            FirstError.TrySetResult();
        }

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
