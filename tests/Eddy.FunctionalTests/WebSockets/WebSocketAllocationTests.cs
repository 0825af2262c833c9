using System.Net.Sockets;
using System.Text;
using Eddy.Cli.Serve;
using Eddy.FunctionalTests.Cli;
using Eddy.FunctionalTests.Http;
using Eddy.Loop;

namespace Eddy.FunctionalTests.WebSockets;

/// <summary>The loop thread allocates nothing per message for <c>/ws/echo</c> in steady state (receive into the handler's buffer, send).</summary>
[Collection(SerialCollection.Name)] // counts a loop thread's allocations: with the process to itself
public class WebSocketAllocationTests
{
    [Theory]
    [InlineData(32)]
    [InlineData(4096)]
    public async Task SteadyStateEchoesAllocateNothingOnTheLoopThread(int size)
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        using Socket socket = await server.ConnectAsync();
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            "GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        var buffer = new byte[1 << 16];
        int headLength = 0;
        while (!Encoding.ASCII.GetString(buffer, 0, headLength).EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            headLength += await socket.ReceiveAsync(buffer.AsMemory(headLength, 1));
        }

        // 16 masked binary messages per batch; each comes back as one unmasked frame.
        byte[] frame = [0x82, 0x80 | 126, (byte)(size >> 8), (byte)size, 1, 2, 3, 4, .. new byte[size]];
        if (size <= 125)
        {
            frame = [0x82, (byte)(0x80 | size), 1, 2, 3, 4, .. new byte[size]];
        }
        byte[] batch = [.. Enumerable.Repeat(frame, 16).SelectMany(f => f)];
        int answer = 16 * (size + (size <= 125 ? 2 : 4));

        async Task RunBatchesAsync(int batches)
        {
            for (int i = 0; i < batches; i++)
            {
                await socket.SendAsync(batch);
                for (int received = 0; received < answer;)
                {
                    int n = await socket.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                    Assert.True(n > 0);
                    received += n;
                }
            }
        }

        await RunBatchesAsync(200); // warm up: JIT, pools
        long before = await LoopAllocated(server.Loop);
        await RunBatchesAsync(500);
        long after = await LoopAllocated(server.Loop);

        double perMessage = (after - before) / (500.0 * 16);
        Assert.True(perMessage < 1, $"{perMessage:F1} bytes allocated per message on the loop thread");
    }

    private static Task<long> LoopAllocated(EventLoop loop) => LoopGroup.InvokeAsync(loop, () => GC.GetAllocatedBytesForCurrentThread());
}
