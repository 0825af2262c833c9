using System.Net;
using System.Security.Cryptography;
using System.Text;
using Eddy.Loop;
using Eddy.Streams;
using Eddy.Transports;
using static Eddy.FunctionalTests.Streams.AsyncStreamReaderTests;

namespace Eddy.FunctionalTests.Streams;

public sealed class EventLoopStreamsTests
{
    [Fact]
    public Task FiftyConcurrentConnectionsCarryRandomPayloadsIntact() => StreamTestLoop.RunAsync(async loop =>
    {
        const int Connections = 50;
        var random = new Random(20240601); // fixed: a failure replays; the loop is single-threaded, so one Random serves all
        Server server = loop.StartServer(async (reader, writer) =>
        {
            // Echo with a random read size per read, to vary where the data is cut.
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = await reader.ReadAsync(buffer.AsMemory(0, random.Next(1, buffer.Length)))) > 0)
            {
                writer.Write(buffer.AsSpan(0, n));
                await writer.DrainAsync();
            }
        }, StreamTestLoop.AnyLoopbackPort);

        var clients = new Task[Connections];
        for (int i = 0; i < Connections; i++)
        {
            byte[] payload = RandomBytes(random.Next(0, 400_000), seed: i);
            clients[i] = RoundTripAsync(loop, server.EndPoints[0], payload, random, useReadExactly: i % 2 == 0);
        }
        await Task.WhenAll(clients);

        server.Close();
        await server.WaitClosedAsync();
        Assert.Equal(0, server.ConnectionCount);
    });

    [Fact]
    public Task UnixSocketStreamsRoundTrip() => StreamTestLoop.RunAsync(async loop =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"eddy-streams-{Guid.NewGuid():N}.sock");
        try
        {
            Server server = loop.StartUnixServer(async (reader, writer) =>
            {
                while (await reader.ReadLineAsync() is { } line)
                {
                    writer.Write(Encoding.UTF8.GetBytes($"echo: {line}\n"));
                }
            }, path);
            Assert.True(File.Exists(path));

            var (reader, writer) = await loop.OpenUnixConnectionAsync(path);
            writer.Write("hello over a unix socket\nsecond line\n"u8);
            Assert.Equal("echo: hello over a unix socket", await reader.ReadLineAsync());
            Assert.Equal("echo: second line", await reader.ReadLineAsync());
            writer.WriteEof();
            Assert.Null(await reader.ReadLineAsync());
            await writer.CloseAsync();

            server.Close();
            await server.WaitClosedAsync();
            Assert.False(File.Exists(path));
        }
        finally
        {
            File.Delete(path);
        }
    });

    [Fact]
    public Task OpenConnectionAsyncResolvesAHostName() => StreamTestLoop.RunAsync(async loop =>
    {
        Server server = await loop.StartServerAsync(EchoAsync, "127.0.0.1", 0);
        var (reader, writer) = await loop.OpenConnectionAsync("localhost", server.Port);
        writer.Write("ping\n"u8);
        Assert.Equal("ping", await reader.ReadLineAsync());
        await writer.CloseAsync();
        server.Close();
    });

    [Fact]
    public Task TheClientConnectedCallbackAndItsContinuationsRunOnTheLoopThread() => StreamTestLoop.RunAsync(async loop =>
    {
        int loopThread = Environment.CurrentManagedThreadId;
        var threads = new TaskCompletionSource<int[]>();
        Server server = loop.StartServer(async (reader, writer) =>
        {
            int atStart = Environment.CurrentManagedThreadId;
            await reader.ReadLineAsync();
            int afterRead = Environment.CurrentManagedThreadId;
            await Task.Delay(1); // a timer of the thread pool: the loop's context brings us back
            threads.SetResult([atStart, afterRead, Environment.CurrentManagedThreadId]);
        }, StreamTestLoop.AnyLoopbackPort);
        var (_, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);
        writer.Write("x\n"u8);

        Assert.All(await threads.Task, thread => Assert.Equal(loopThread, thread));
        await writer.CloseAsync();
        server.Close();
    });

    [Fact]
    public Task AnExceptionFromTheClientConnectedCallbackGoesToTheExceptionHandlerAndClosesTheConnection() => StreamTestLoop.RunAsync(async (loop, errors) =>
    {
        Server server = loop.StartServer(async (reader, writer) =>
        {
            await reader.ReadLineAsync();
            writer.Write("partial answer"u8);
            throw new InvalidOperationException("handler failed");
        }, StreamTestLoop.AnyLoopbackPort);
        var (reader, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);
        writer.Write("request\n"u8);

        // The connection is closed gracefully: what was written is still delivered, then EOF.
        byte[] answer = new byte["partial answer".Length];
        await reader.ReadExactlyAsync(answer);
        Assert.Equal("partial answer"u8.ToArray(), answer);
        Assert.Equal(0, await reader.ReadAsync(new byte[1]));

        LoopExceptionContext context = Assert.Single(errors);
        Assert.Contains("client-connected", context.Message);
        Assert.Equal("handler failed", Assert.IsType<InvalidOperationException>(context.Exception).Message);
        Assert.IsAssignableFrom<Transport>(context.Source);
        await writer.CloseAsync();
        server.Close();
    });

    private static async Task RoundTripAsync(EventLoop loop, EndPoint endPoint, byte[] payload, Random random, bool useReadExactly)
    {
        var (reader, writer) = await loop.OpenConnectionAsync(endPoint);
        Task<(long, byte[])> receive = ReceiveAsync(reader, random, useReadExactly ? payload.Length : -1);

        // Random split points on the way out, waiting for the transport whenever it asks us to.
        int offset = 0;
        while (offset < payload.Length)
        {
            int size = Math.Min(payload.Length - offset, random.Next(1, 32 * 1024));
            writer.Write(payload.AsSpan(offset, size));
            offset += size;
            await writer.DrainAsync();
        }
        writer.WriteEof();

        var (count, hash) = await receive;
        Assert.Equal(payload.Length, count);
        Assert.Equal(SHA256.HashData(payload), hash);
        await writer.CloseAsync();
    }

    /// <summary>Reads to EOF in random-sized pieces (with ReadExactly when the length is known), hashing as it goes.</summary>
    private static async Task<(long Count, byte[] Hash)> ReceiveAsync(AsyncStreamReader reader, Random random, int knownLength)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[48 * 1024];
        long count = 0;
        if (knownLength >= 0)
        {
            while (count < knownLength)
            {
                int size = (int)Math.Min(knownLength - count, random.Next(1, buffer.Length));
                await reader.ReadExactlyAsync(buffer.AsMemory(0, size));
                hash.AppendData(buffer, 0, size);
                count += size;
            }
        }
        int n;
        while ((n = await reader.ReadAsync(buffer.AsMemory(0, random.Next(1, buffer.Length)))) > 0)
        {
            hash.AppendData(buffer, 0, n);
            count += n;
        }
        return (count, hash.GetHashAndReset());
    }
}
