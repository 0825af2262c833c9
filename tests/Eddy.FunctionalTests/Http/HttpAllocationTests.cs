using System.Net.Sockets;
using System.Text;
using Eddy.Cli.Serve;
using Eddy.FunctionalTests.Cli;
using Eddy.Loop;

namespace Eddy.FunctionalTests.Http;

/// <summary>The loop thread allocates nothing per request for /plaintext and /json in steady state.</summary>
[Collection(SerialCollection.Name)] // counts a loop thread's allocations: with the process to itself
public class HttpAllocationTests
{
    [Theory]
    [InlineData("/plaintext", "Hello, World!")]
    [InlineData("/json", "{\"message\":\"Hello, World!\"}")]
    public async Task SteadyStateRequestsAllocateNothingOnTheLoopThread(string path, string body)
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        EventLoop loop = server.Loop;
        using Socket socket = await server.ConnectAsync();
        byte[] batch = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n", 16)));
        var buffer = new byte[1 << 16];

        async Task RunBatchesAsync(int batches)
        {
            for (int i = 0; i < batches; i++)
            {
                await socket.SendAsync(batch);
                int answers = 0;
                while (answers < 16)
                {
                    int n = await socket.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                    Assert.True(n > 0);
                    answers += Count(Encoding.ASCII.GetString(buffer, 0, n), body);
                }
            }
        }

        await RunBatchesAsync(200); // warm up: JIT, pools, the Date line
        long before = await LoopGroupAllocated(loop);
        await RunBatchesAsync(500);
        long after = await LoopGroupAllocated(loop);

        double perRequest = (after - before) / (500.0 * 16);
        Assert.True(perRequest < 1, $"{perRequest:F1} bytes allocated per request on the loop thread");
    }

    [Fact]
    public async Task SteadyStateRequestsOnManyConnectionsAtOnceAllocateNothingOnTheLoopThread()
    {
        // Hundreds of connections with a request each at the same moment: every buffer a connection holds then (on
        // io_uring, each response's send chunk until its completion) is held by many of them at once, so a pool that
        // keeps only a few arrays per size misses and allocates here. (With ArrayPool.Shared for the send chunks, 32
        // per size per core, this failed with 769 bytes per request on io_uring with one core, DOTNET_PROCESSOR_COUNT=1.)
        const int connections = 256;
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        var sockets = new Socket[connections];
        for (int i = 0; i < connections; i++)
        {
            sockets[i] = await server.ConnectAsync();
        }
        byte[] request = "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray();
        var buffers = new byte[connections][];
        for (int i = 0; i < connections; i++)
        {
            buffers[i] = new byte[4096];
        }

        async Task ReceiveAsync(int i)
        {
            int received = 0;
            while (Count(Encoding.ASCII.GetString(buffers[i], 0, received), "Hello, World!") == 0)
            {
                int n = await sockets[i].ReceiveAsync(buffers[i].AsMemory(received)).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                Assert.True(n > 0);
                received += n;
            }
        }

        async Task RunRoundsAsync(int rounds)
        {
            for (int round = 0; round < rounds; round++)
            {
                // The loop is held in a callback until every request is sent: they wait together, not one by one.
                using var held = new SemaphoreSlim(0);
                using var sent = new ManualResetEventSlim();
                server.Loop.CallSoonThreadSafe(static state =>
                {
                    var (held, sent) = ((SemaphoreSlim, ManualResetEventSlim))state!;
                    held.Release();
                    sent.Wait(TimeSpan.FromSeconds(10));
                }, (held, sent));
                await held.WaitAsync(TimeSpan.FromSeconds(10));
                foreach (Socket socket in sockets)
                {
                    socket.Send(request);
                }
                sent.Set();
                await Task.WhenAll(Enumerable.Range(0, connections).Select(ReceiveAsync));
            }
        }

        try
        {
            await RunRoundsAsync(20); // warm up: JIT, pools, the Date line
            long before = await LoopGroupAllocated(server.Loop);
            await RunRoundsAsync(40);
            long after = await LoopGroupAllocated(server.Loop);
            double perRequest = (after - before) / (40.0 * connections);
            Assert.True(perRequest < 1, $"{perRequest:F1} bytes allocated per request on the loop thread");
        }
        finally
        {
            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    private static Task<long> LoopGroupAllocated(EventLoop loop) => LoopGroup.InvokeAsync(loop, () => GC.GetAllocatedBytesForCurrentThread());

    private static int Count(string text, string what)
    {
        int count = 0;
        for (int at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
