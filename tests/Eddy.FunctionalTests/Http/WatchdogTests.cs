using System.Net;
using Eddy.Loop;
using Eddy.Transports;
using Eddy.Web;
using Microsoft.Extensions.Logging;

namespace Eddy.FunctionalTests.Http;

/// <summary>The loop's watchdog, on a real server: a handler that blocks the loop thread is reported while it blocks.</summary>
public sealed class WatchdogTests
{
    [Fact]
    public async Task AHandlerThatBlocksTheLoopIsReportedWithItsRoute()
    {
        var logger = new ListLogger();
        using var loops = new LoopGroup(1, _ => new EventLoopOptions
        {
            Name = "watched",
            Logger = logger,
            WatchdogThreshold = TimeSpan.FromMilliseconds(50),
        });
        loops.Start();
        var app = new WebApp();
        app.MapGet("/fast", context => context.Response.Text("fast"));
        // The event under test: the handler blocks its loop thread (bounded: 400 ms, eight thresholds).
        app.MapGet("/slow/{id}", context =>
        {
            Thread.Sleep(400);
            context.Response.Text("slow");
        });
        GroupServer server = await app.ListenAsync(loops, new IPEndPoint(IPAddress.Loopback, 0)).WaitAsync(TimeSpan.FromSeconds(10));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            Assert.Equal("fast", await client.GetStringAsync($"http://{server.EndPoint}/fast"));
            Assert.Equal("slow", await client.GetStringAsync($"http://{server.EndPoint}/slow/7"));

            // The watchdog (a timer on the thread pool) logs while the handler sleeps; waited for, not assumed. (On a
            // loaded machine another tick, such as a first request's JIT, may pass 50 ms too: only /slow's is asserted.)
            string warning = await logger.MessageContaining(LogLevel.Warning, "running GET /slow/{id}").WaitAsync(TimeSpan.FromSeconds(10));
            Assert.StartsWith("watched: the loop has been blocked for", warning);
            Assert.Single(logger.Messages(LogLevel.Warning), w => w.Contains("/slow", StringComparison.Ordinal)); // once per blocked tick
        }
        finally
        {
            await server.CloseAsync().WaitAsync(TimeSpan.FromSeconds(10));
            await server.AbortClientsAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }
}
