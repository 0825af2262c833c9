using System.Diagnostics;
using Eddy.Cli.Serve;
using Eddy.Http;
using Xunit.Abstractions;

namespace Eddy.FunctionalTests.Http;

/// <summary>Slow and idle clients are cut off by the heartbeat; others are served meanwhile.</summary>
public class HttpTimeoutTests(ITestOutputHelper output) : IDisposable
{
    private readonly HttpTestServer _server = new(DemoApp.Create(DemoApp.DefaultStaticFolder), new HttpServerOptions
    {
        RequestHeadersTimeout = TimeSpan.FromSeconds(1),
        KeepAliveTimeout = TimeSpan.FromSeconds(1),
        MinRequestBodyDataRate = 1000,
        MinRequestBodyDataRateGracePeriod = TimeSpan.FromSeconds(1),
    });

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task ASlowlorisHeadIsAnswered408AndClosedWhileOthersAreServed()
    {
        using var slow = await _server.ConnectAsync();
        await slow.SendAsync("GET /plaintext HTTP/1.1\r\nHost: x\r\n"u8.ToArray()); // never finishes the head
        var clock = Stopwatch.StartNew();

        string normal = await _server.RawAsync("GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        output.WriteLine($"a normal client was answered {clock.ElapsedMilliseconds} ms after the slow one started");
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(900), "a normal client waited for the slow one");
        Assert.EndsWith("Hello, World!", normal);

        string raw = await HttpTestServer.ReadToEndAsync(slow, timeoutMs: 5000);
        output.WriteLine($"the slow head was answered {raw.Split('\r')[0]} after {clock.Elapsed.TotalSeconds:F1} s (timeout 1 s, heartbeat 1 s)");
        Assert.StartsWith("HTTP/1.1 408 ", raw);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 3.5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the trickled head follows a complete request in the same write
    public async Task TricklingTheHeadDoesNotResetItsTimeout(bool afterAPipelinedRequest)
    {
        using var slow = await _server.ConnectAsync();
        string first = afterAPipelinedRequest ? "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\nG" : "G";
        await slow.SendAsync(System.Text.Encoding.ASCII.GetBytes(first));
        var clock = Stopwatch.StartNew();
        Task<string> answer = HttpTestServer.ReadToEndAsync(slow, timeoutMs: 6000);

        // One byte every 200 ms: each arrives well within the 1 s timeout, the head never within it.
        foreach (byte b in "ET /plaintext HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaa"u8.ToArray())
        {
            if (answer.IsCompleted)
            {
                break;
            }
            await Task.Delay(200);
            try
            {
                await slow.SendAsync(new[] { b });
            }
            catch (System.Net.Sockets.SocketException)
            {
                break; // closed by the server
            }
        }

        string raw = await answer;
        Assert.Contains("HTTP/1.1 408 ", raw);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 3.5);
    }

    [Fact]
    public async Task AHeadTrickledAByteAtATimeIsCutAtTheHeadersTimeoutFromItsFirstByte()
    {
        using var slow = await _server.ConnectAsync();
        byte[] head = "GET /plaintext HTTP/1.1\r\nHost: x\r\nUser-Agent: a-very-slow-client\r\n\r\n"u8.ToArray();
        var clock = Stopwatch.StartNew();

        // One byte every 100 ms would take 6 s; each byte must not restart the 1 s clock.
        for (int i = 0; i < head.Length && clock.Elapsed < TimeSpan.FromSeconds(5); i++)
        {
            try
            {
                await slow.SendAsync(head.AsMemory(i, 1));
            }
            catch (System.Net.Sockets.SocketException)
            {
                break; // the server closed it
            }
            if (slow.Available > 0)
            {
                break;
            }
            await Task.Delay(100);
        }
        string answer = await HttpTestServer.ReadToEndAsync(slow, timeoutMs: 3000);

        output.WriteLine($"the trickled head was answered {answer.Split('\r')[0]} after {clock.Elapsed.TotalSeconds:F1} s (timeout 1 s)");
        Assert.StartsWith("HTTP/1.1 408 ", answer);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 4.5);
    }

    [Fact]
    public async Task AnIdleKeepAliveConnectionIsClosed()
    {
        using var idle = await _server.ConnectAsync();
        await idle.SendAsync("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var clock = Stopwatch.StartNew();

        string raw = await HttpTestServer.ReadToEndAsync(idle, timeoutMs: 5000);

        Assert.EndsWith("Hello, World!", raw); // the answer, then EOF once idle too long
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 3.5);
    }

    [Fact]
    public async Task ABodyTricklingBelowTheMinimumRateIs408()
    {
        using var slow = await _server.ConnectAsync();
        await slow.SendAsync("POST /anything HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc"u8.ToArray());

        var clock = Stopwatch.StartNew();
        string raw = await HttpTestServer.ReadToEndAsync(slow, timeoutMs: 6000);

        output.WriteLine($"the trickling body was answered {raw.Split('\r')[0]} after {clock.Elapsed.TotalSeconds:F1} s (1,000 B/s minimum, 1 s grace)");
        Assert.StartsWith("HTTP/1.1 408 ", raw);
    }
}
