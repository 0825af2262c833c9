using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Eddy.FunctionalTests.Http;
using Eddy.Web;

namespace Eddy.FunctionalTests.Cli;

/// <summary>
/// <c>eddy load http</c>, run as a process against an in-process Eddy server and against
/// <see cref="RawHttpServer"/>, which counts what it receives independently of Eddy's parser.
/// </summary>
public class LoadHttpTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task TheRequestCountMatchesWhatTheRawServerSaw()
    {
        using var server = new RawHttpServer();

        var (result, root) = await RunAsync(server.Url("/count"), "-n", "1000", "-c", "10");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(1000, root.GetProperty("requests").GetInt64());
        Assert.Equal(1000, root.GetProperty("requestsSent").GetInt64());
        Assert.Equal(1000, server.Requests);
        Assert.Equal(1 + 10, server.Connections); // the reachability check before the run, then the 10 kept open
        Assert.Equal(0, root.GetProperty("errors").GetInt64());
        Assert.Equal(1000, root.GetProperty("statusCounts").GetProperty("200").GetInt64());
    }

    [Fact]
    public async Task TheRequestCountMatchesWhatTheEddyServerHandled()
    {
        long handled = 0, wrongBodies = 0;
        var app = new WebApp();
        app.MapPost("/echo", async ctx =>
        {
            Interlocked.Increment(ref handled);
            ReadOnlyMemory<byte> body = await ctx.Request.ReadBodyAsync();
            if (body.Length != 12 || ctx.Request.Headers["X-Test"] != "1")
            {
                Interlocked.Increment(ref wrongBodies);
            }
            ctx.Response.Text(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
        using var server = new HttpTestServer(app);

        var (result, root) = await RunAsync(server.Url("/echo").ToString(), "-n", "777", "-c", "7", "-m", "POST", "--body", "twelve bytes", "-H", "X-Test: 1");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(777, root.GetProperty("requests").GetInt64());
        Assert.Equal(777, Interlocked.Read(ref handled));
        Assert.Equal(0, Interlocked.Read(ref wrongBodies));
        Assert.Equal(777, root.GetProperty("statusCounts").GetProperty("200").GetInt64());
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task PipeliningWritesExactlyTheDepthAtOnce()
    {
        using var server = new RawHttpServer();

        var (result, root) = await RunAsync(server.Url(), "-n", "2000", "-c", "4", "--pipeline", "8");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(2000, root.GetProperty("requests").GetInt64());
        Assert.Equal(2000, server.Requests);
        // The client writes 8 requests in one write and waits for all 8 answers before the next batch, so
        // the server can never find more than 8 in a read, and on loopback one write arrives as one read.
        Assert.Equal(8, server.MaxRequestsPerRead);
        Assert.Equal(8, root.GetProperty("pipeline").GetInt32());
    }

    [Fact]
    public async Task ChunkedResponsesAreFramedAndCounted()
    {
        using var server = new RawHttpServer(RawHttpBehavior.Chunked);

        var (result, root) = await RunAsync(server.Url(), "-n", "600", "-c", "3", "--pipeline", "4");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(600, root.GetProperty("requests").GetInt64());
        Assert.Equal(0, root.GetProperty("errors").GetInt64());
        Assert.Equal(600, server.Requests);
    }

    [Fact]
    public async Task ConstantRateKeepsTheRateWithinFivePercent()
    {
        long handled = 0;
        var app = new WebApp();
        app.MapGet("/", ctx =>
        {
            Interlocked.Increment(ref handled);
            ctx.Response.Text("ok");
        });
        using var server = new HttpTestServer(app);

        var (result, root) = await RunAsync(server.Url("/").ToString(), "-R", "2000", "-d", "3s", "-c", "8");

        Assert.Equal(0, result.ExitCode);
        long requests = root.GetProperty("requests").GetInt64();
        Assert.InRange(requests, 5700, 6300);
        Assert.InRange(root.GetProperty("requestsPerSecond").GetDouble(), 1900, 2100);
        // What the server handled: every response, and at most the requests still in flight at the end.
        Assert.InRange(Interlocked.Read(ref handled), requests, root.GetProperty("requestsSent").GetInt64());
        Assert.Equal(JsonValueKind.Object, root.GetProperty("uncorrectedLatencyUs").ValueKind);
    }

    [Fact]
    public async Task AStalledServerShowsInTheConstantRateLatency()
    {
        // One connection at 500 req/s; the server holds request 300 for 500 ms. About 250 requests were
        // due during the stall and wait behind it: counted from their scheduled times (wrk2's correction)
        // they spread over 0-500 ms, a sixth of all samples, so p99.9 shows the stall. Counted from their
        // actual writes only the one held request would.
        using var server = new RawHttpServer { StallAtRequest = 300, StallFor = TimeSpan.FromMilliseconds(500) };

        var (result, root) = await RunAsync(server.Url(), "-R", "500", "-d", "3s", "-c", "1");

        Assert.Equal(0, result.ExitCode);
        JsonElement latency = root.GetProperty("latencyUs");
        Assert.True(latency.GetProperty("p999").GetInt64() >= 400_000, $"p99.9 {latency.GetProperty("p999")} µs");
        Assert.True(latency.GetProperty("p50").GetInt64() < 100_000, $"p50 {latency.GetProperty("p50")} µs");
        Assert.True(latency.GetProperty("p90").GetInt64() >= 20_000, $"p90 {latency.GetProperty("p90")} µs: the backlog must show beyond the one stalled request");
        JsonElement uncorrected = root.GetProperty("uncorrectedLatencyUs");
        Assert.True(uncorrected.GetProperty("max").GetInt64() >= 400_000, $"uncorrected max {uncorrected.GetProperty("max")} µs");
        Assert.True(uncorrected.GetProperty("p90").GetInt64() < latency.GetProperty("p90").GetInt64());
    }

    [Fact]
    public async Task NonSuccessStatusesAreCountedByStatus()
    {
        var app = new WebApp();
        app.MapGet("/fail", ctx =>
        {
            ctx.Response.StatusCode = 503;
            ctx.Response.Text("busy");
        });
        using var server = new HttpTestServer(app);

        var (result, root) = await RunAsync(server.Url("/missing").ToString(), "-n", "200", "-c", "2");
        var (_, failRoot) = await RunAsync(server.Url("/fail").ToString(), "-n", "50", "-c", "2");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(200, root.GetProperty("statusCounts").GetProperty("404").GetInt64());
        Assert.Equal(200, root.GetProperty("non2xx").GetInt64());
        Assert.Equal(0, root.GetProperty("errors").GetInt64());
        Assert.Equal(50, failRoot.GetProperty("statusCounts").GetProperty("503").GetInt64());
        Assert.Contains("Non-2xx responses: 200", result.Stdout);
    }

    [Fact]
    public async Task AServerThatClosesWithoutAnsweringCountsReadErrors()
    {
        using var server = new RawHttpServer(RawHttpBehavior.CloseWithoutAnswer);

        var (result, root) = await RunAsync(server.Url(), "-d", "1s", "-c", "2");

        Assert.Equal(1, result.ExitCode); // no response at all
        Assert.Equal(0, root.GetProperty("requests").GetInt64());
        Assert.True(root.GetProperty("errorsByKind").GetProperty("read").GetInt64() > 0);
        Assert.Equal(0, root.GetProperty("errorsByKind").GetProperty("timeout").GetInt64());
    }

    [Fact]
    public async Task AServerThatNeverAnswersCountsTimeouts()
    {
        using var server = new RawHttpServer(RawHttpBehavior.NeverAnswer);

        var (result, root) = await RunAsync(server.Url(), "-d", "1500ms", "-c", "3", "--timeout", "300ms");

        Assert.Equal(1, result.ExitCode);
        long timeouts = root.GetProperty("errorsByKind").GetProperty("timeout").GetInt64();
        Assert.True(timeouts >= 3, $"{timeouts} timeouts");
        Assert.Equal(0, root.GetProperty("errorsByKind").GetProperty("read").GetInt64());
    }

    [Fact]
    public async Task ConnectionCloseReconnectsAndARefusedReconnectIsAConnectError()
    {
        // Each connection gets one answer with Connection: close; after 21 connections (the reachability
        // check before the run, then 20 for requests) the listener closes.
        using var server = new RawHttpServer(RawHttpBehavior.CloseAfterResponse, maxConnections: 21);

        var (result, root) = await RunAsync(server.Url(), "-d", "1500ms", "-c", "2");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(20, root.GetProperty("requests").GetInt64());
        Assert.Equal(20, root.GetProperty("closedByServer").GetInt64());
        Assert.True(root.GetProperty("errorsByKind").GetProperty("connect").GetInt64() > 0);
        Assert.True(root.GetProperty("errorDetails").GetProperty("connect").GetProperty("ECONNREFUSED").GetInt64() > 0);
        Assert.True(server.ReservedAfterClosing); // the refused reconnects could not have reached another test's server
    }

    [Fact]
    public async Task TheJsonCarriesTheFullDistributionAndTheHtmlPlotsIt()
    {
        using var server = new RawHttpServer();
        string html = Path.Combine(Path.GetTempPath(), $"eddy-load-{Guid.NewGuid():N}.html");
        try
        {
            var (result, root) = await RunAsync(server.Url(), "-d", "1s", "-c", "4", "--html", html);

            Assert.Equal(0, result.ExitCode);
            JsonElement distribution = root.GetProperty("distribution");
            Assert.True(distribution.GetArrayLength() > 20, $"{distribution.GetArrayLength()} points");
            double lastPercentile = -1;
            long lastValue = -1, lastCount = -1;
            foreach (JsonElement point in distribution.EnumerateArray())
            {
                double percentile = point.GetProperty("percentile").GetDouble();
                long value = point.GetProperty("valueUs").GetInt64();
                long count = point.GetProperty("count").GetInt64();
                Assert.True(percentile >= lastPercentile && value >= lastValue && count >= lastCount);
                (lastPercentile, lastValue, lastCount) = (percentile, value, count);
            }
            Assert.Equal(100, lastPercentile);
            Assert.Equal(root.GetProperty("requests").GetInt64(), lastCount);
            Assert.Equal(root.GetProperty("latencyUs").GetProperty("max").GetInt64(), lastValue);
            Assert.Equal(9, root.GetProperty("percentiles").GetArrayLength());

            string page = await File.ReadAllTextAsync(html);
            Assert.Contains("<svg", page);
            Assert.Contains("<polyline", page);
            Assert.Contains(">99.9%<", page);
            Assert.DoesNotContain("<script", page); // self-contained: nothing to fetch, nothing to run
            Assert.Contains("requests/s", page);
        }
        finally
        {
            File.Delete(html);
        }
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("localhost:8080")]
    [InlineData("https://127.0.0.1:1/")]
    [InlineData("http://127.0.0.1:{port}/", "-c", "0")]
    [InlineData("http://127.0.0.1:{port}/", "-R", "100")]
    [InlineData("http://127.0.0.1:{port}/", "--pipeline", "0")]
    [InlineData("http://127.0.0.1:{port}/", "-H", "no colon")]
    [InlineData("http://127.0.0.1:{port}/", "--body", "@/nonexistent/eddy-body")]
    [InlineData("http://127.0.0.1:{port}/", "--body", "@/")] // a folder
    [InlineData("http://127.0.0.1:{refused}/")]
    [InlineData("http://no-such-host.invalid/")]
    public async Task BadInputIsOneLineAndANonZeroExit(string url, params string[] more)
    {
        using var server = new RawHttpServer();
        using Socket refused = ReserveRefusedPort();
        url = url.Replace("{port}", server.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture))
                 .Replace("{refused}", ((IPEndPoint)refused.LocalEndPoint!).Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        string[] duration = more.Contains("-R") ? [] : ["-d", "1s"];
        var result = await EddyCli.RunAsync(Timeout, ["load", "http", url, .. duration, .. more]);

        Assert.Equal(2, result.ExitCode);
        string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("eddy: ", lines[0]);
        Assert.True(lines.Length <= 2, result.Stderr); // the message, and at most a usage line
        Assert.Equal(0, server.Requests);
    }

    /// <summary>
    /// Ctrl-C's SIGINT, unless this process was started with SIGINT ignored (a background job of a
    /// non-interactive shell, e.g. `.ci/run &amp;` or nohup): the child inherits the ignore, and .NET, as every
    /// well-behaved program, keeps it. The load generator stops the same way on SIGTERM, so that is sent instead.
    /// </summary>
    private static string InterruptSignal()
    {
        const ulong SigIntBit = 1UL << (2 - 1); // SIGINT is 2; SigIgn is a mask of (1 << (signal - 1))
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        ulong ignored = line is null ? 0 : Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16);
        return (ignored & SigIntBit) != 0 ? "-TERM" : "-INT";
    }

    [Fact]
    public async Task CtrlCStopsEarlyAndStillPrintsTheFigures()
    {
        using var server = new RawHttpServer();
        string apphost = Path.Combine(AppContext.BaseDirectory, "Eddy.Cli");
        var start = new ProcessStartInfo(apphost) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string arg in new[] { "load", "http", server.Url(), "-d", "30s", "-c", "2" })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await server.WhenRequests(100).WaitAsync(TimeSpan.FromSeconds(20)); // under way
        using (var kill = Process.Start("kill", [InterruptSignal(), process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        try
        {
            // Past the run's own 30 s: a lost signal shows as exit code 0 below, a hang as this timeout.
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(45));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"eddy load http did not exit after SIGINT. stdout: {await stdout} stderr: {await stderr}");
        }

        Assert.True(process.ExitCode == 130, $"exit code {process.ExitCode}; stdout: {await stdout} stderr: {await stderr}");
        string output = await stdout;
        Assert.Contains("Interrupted", output);
        Assert.Contains("Requests/sec", output);
        Assert.Contains("Latency Distribution", output);
        Assert.Equal("", await stderr);
    }

    /// <summary>
    /// A port bound but never listening: every connect to it is refused while the socket is held, and no server
    /// another test starts meanwhile can be given it (a freed port could be, and would receive this test's load).
    /// </summary>
    private static Socket ReserveRefusedPort()
    {
        var reserved = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        reserved.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return reserved;
    }

    private static Task<(EddyCli.Result Result, JsonElement Root)> RunAsync(string url, params string[] more) =>
        EddyCli.RunLoadHttpAsync(Timeout, url, more);
}
