using System.Net.Sockets;
using System.Text;
using Eddy.Cli.Serve;
using Eddy.Loop;

namespace Eddy.FunctionalTests.Http;

/// <summary>The loop thread allocates nothing per request for /plaintext and /json in steady state.</summary>
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
