using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Eddy.FunctionalTests.Echo;

/// <summary>Every step of the tutorial's echo server returns exactly what was sent, over real loopback sockets.</summary>
public class EchoServerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<string> AllImplementations => ["blocking", "selector", "loop", "async", "protocol", "streams"];

    public static TheoryData<string> NonBlockingImplementations => ["selector", "loop", "async", "protocol", "streams"];

    [Theory]
    [MemberData(nameof(AllImplementations))]
    public async Task EchoesMessagesFromOneByteToOneMebibyteSentInRandomPieces(string impl)
    {
        using var server = new RunningEchoServer(impl);
        var random = new Random(impl.GetHashCode());
        foreach (int size in new[] { 1, 2, 100, 1024, 65_535, 65_536, 65_537, 300_000, 1 << 20 })
        {
            byte[] message = RandomNumberGenerator.GetBytes(size);
            byte[] echoed = await EchoAsync(server.EndPoint, message, random).WaitAsync(Timeout);
            Assert.True(message.AsSpan().SequenceEqual(echoed), $"{impl}: a {size}-byte message came back different");
        }
    }

    [Theory]
    [MemberData(nameof(NonBlockingImplementations))]
    public async Task ServesOneHundredFiftyConcurrentClientsExactly(string impl)
    {
        using var server = new RunningEchoServer(impl);
        var clients = Enumerable.Range(0, 150).Select(async i =>
        {
            var random = new Random(i);
            byte[] message = RandomNumberGenerator.GetBytes(random.Next(1, 200_000));
            byte[] echoed = await EchoAsync(server.EndPoint, message, random);
            return message.AsSpan().SequenceEqual(echoed);
        });
        bool[] results = await Task.WhenAll(clients).WaitAsync(Timeout);
        Assert.All(results, Assert.True);
    }

    [Theory]
    [MemberData(nameof(AllImplementations))]
    public async Task KeepsServingAfterAClientResetsMidMessage(string impl)
    {
        using var server = new RunningEchoServer(impl);
        using (var rude = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await rude.ConnectAsync(server.EndPoint);
            await rude.SendAsync(RandomNumberGenerator.GetBytes(100_000));
            rude.LingerState = new LingerOption(true, 0); // close sends RST
        }
        byte[] message = RandomNumberGenerator.GetBytes(5000);
        byte[] echoed = await EchoAsync(server.EndPoint, message, new Random(1)).WaitAsync(Timeout);
        Assert.Equal(message, echoed);
    }

    [Theory]
    [MemberData(nameof(NonBlockingImplementations))]
    public async Task AClientThatSendsAndNeverReadsDoesNotDisturbOthers(string impl)
    {
        using var server = new RunningEchoServer(impl);
        using var greedy = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await greedy.ConnectAsync(server.EndPoint);
        // Send far more than the socket buffers hold without reading: the server's echo backs up.
        byte[] chunk = new byte[64 * 1024];
        using var sendFor = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        long sent = 0;
        try
        {
            while (sent < 64L << 20)
            {
                sent += await greedy.SendAsync(chunk, SocketFlags.None, sendFor.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The pipe is full in both directions: the server stopped reading us. Expected.
        }

        var others = Enumerable.Range(0, 20).Select(async i =>
        {
            byte[] message = RandomNumberGenerator.GetBytes(10_000);
            byte[] echoed = await EchoAsync(server.EndPoint, message, new Random(i));
            return message.AsSpan().SequenceEqual(echoed);
        });
        bool[] results = await Task.WhenAll(others).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(results, Assert.True);
    }

    /// <summary>Connects, sends <paramref name="message"/> in random pieces while reading the echo, and returns what came back.</summary>
    private static async Task<byte[]> EchoAsync(IPEndPoint endPoint, byte[] message, Random random)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        byte[] received = new byte[message.Length];
        Task<int> reading = ReadFullyAsync(socket, received);
        int offset = 0;
        while (offset < message.Length)
        {
            int piece = Math.Min(message.Length - offset, random.Next(1, 100_000));
            offset += await socket.SendAsync(message.AsMemory(offset, piece));
        }
        int count = await reading;
        Assert.Equal(message.Length, count);
        return received;
    }

    private static async Task<int> ReadFullyAsync(Socket socket, byte[] buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(total));
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return total;
    }
}
