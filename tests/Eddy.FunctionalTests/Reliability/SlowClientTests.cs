using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Eddy.FunctionalTests.Http;
using Eddy.FunctionalTests.Transports;
using Eddy.Http;
using Xunit.Abstractions;

namespace Eddy.FunctionalTests.Reliability;

/// <summary>
/// Slow read: a client that asks for a large answer and never reads it holds a bounded amount of the
/// server's memory, is cut off once it reads slower than <see cref="HttpServerOptions.MinResponseDataRate"/>,
/// and does not delay anyone else. (Slowloris and slow POST: <see cref="HttpTimeoutTests"/>.)
/// </summary>
public class SlowClientTests(ITestOutputHelper output) : IDisposable
{
    // Far below the 50 MB asked for; the transport's high-water mark (64 KiB) plus one response (256 KiB) and slack.
    private const long BufferedBound = 1024 * 1024;

    private readonly HttpTestServer _server = new(ReliabilityApp.Create(), new HttpServerOptions
    {
        MinResponseDataRateGracePeriod = TimeSpan.FromSeconds(1),
    });

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task AStreamedResponseToAClientThatNeverReadsStaysBoundedAndIsCutWhileOthersAreServed()
    {
        await AssertNonReaderIsBoundedAndCutAsync("GET /stream/50 HTTP/1.1\r\nHost: x\r\n\r\n", BufferedBound);
    }

    [Fact]
    public async Task PipelinedLargeResponsesToAClientThatNeverReadsStayBoundedAndAreCutWhileOthersAreServed()
    {
        // 200 requests for 256 KiB each: 50 MB of answers, if the server produced them all.
        var requests = new StringBuilder();
        for (int i = 0; i < 200; i++)
        {
            requests.Append("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
        }
        await AssertNonReaderIsBoundedAndCutAsync(requests.ToString(), BufferedBound);
    }

    [Fact]
    public async Task ALastResponseToAClientThatNeverReadsIsCutEvenAfterTheConnectionWasToldToClose()
    {
        // 16 MiB sent at once, then the connection closes after it: the bytes wait in the transport while it closes.
        await AssertNonReaderIsBoundedAndCutAsync("GET /bytes/16384 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 17 * 1024 * 1024);
    }

    [Fact]
    public async Task AClientReadingSteadilyAboveTheMinimumRateGetsAllOfALargeStream()
    {
        using Socket reader = await Client.ConnectAsync(_server.EndPoint, receiveBufferSize: 16 * 1024);
        await reader.SendAsync("GET /stream/8 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray());

        // Small reads with pauses, far above 240 B/s on average, so the rate check must not cut it. The check wants
        // bytes to leave the server's buffer in every 1 s window, and the server can write again only once the
        // client has read a good part of the kernel's buffers (they hold MiBs): so the client reads on a thread of
        // its own (a pool thread can be held up for a second by a busy test run, and then the cut would be right)
        // and pauses briefly and often (50 ms per 256 KiB) rather than long and seldom.
        long received = 0;
        TimeSpan longestGap = TimeSpan.Zero;
        reader.ReceiveTimeout = 60_000;
        var readAll = new Thread(() =>
        {
            var buffer = new byte[32 * 1024];
            var sinceLast = Stopwatch.StartNew();
            int n;
            while ((n = reader.Receive(buffer)) > 0)
            {
                longestGap = sinceLast.Elapsed > longestGap ? sinceLast.Elapsed : longestGap;
                received += n;
                if (received % (256 * 1024) < n)
                {
                    Thread.Sleep(50);
                }
                sinceLast.Restart();
            }
        })
        { IsBackground = true, Name = "slow reader" };
        readAll.Start();
        Assert.True(await Task.Run(() => readAll.Join(TimeSpan.FromSeconds(90))), "the slow reader never finished");
        output.WriteLine($"received {received} bytes; longest wait for the server: {longestGap.TotalMilliseconds:F0} ms");

        Assert.True(received > 8 * 1024 * 1024, $"only {received} bytes of an 8 MiB stream arrived");
        Assert.Empty(_server.Errors);
    }

    private async Task AssertNonReaderIsBoundedAndCutAsync(string request, long bound)
    {
        using Socket stalled = await Client.ConnectAsync(_server.EndPoint, receiveBufferSize: 4096);
        await stalled.SendAsync(Encoding.ASCII.GetBytes(request));
        var clock = Stopwatch.StartNew();
        // Connected is not yet accepted: until the server has the connection, a count of 0 would end the watch at once.
        await _server.WaitForConnectionCountAsync(1);

        // Watch the server's buffered output until it cuts the connection.
        long most = 0;
        TimeSpan? othersServedIn = null;
        while (await _server.Server.GetConnectionCountAsync() > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "the connection of a client that reads nothing was never cut");
            most = Math.Max(most, await _server.Server.GetBufferedWriteBytesAsync());
            if (othersServedIn is null && most > 0)
            {
                var other = Stopwatch.StartNew();
                await _server.AssertServesPlaintextAsync();
                othersServedIn = other.Elapsed;
            }
            await Task.Delay(20);
        }

        output.WriteLine($"most buffered: {most} bytes; cut after {clock.Elapsed.TotalSeconds:F1} s; another client served in {othersServedIn?.TotalMilliseconds:F0} ms");
        Assert.InRange(most, 1, bound);
        Assert.True(othersServedIn < TimeSpan.FromSeconds(2), $"another client waited {othersServedIn} while one did not read");
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 15);
        Assert.Empty(_server.Errors); // a client that stops reading is the network's weather, not an error to log
        await _server.AssertServesPlaintextAsync();
    }
}
