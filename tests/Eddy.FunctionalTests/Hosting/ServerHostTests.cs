using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Eddy.FunctionalTests.Children;
using Eddy.FunctionalTests.Tls;
using Eddy.FunctionalTests.Transports;
using Eddy.Hosting;
using Eddy.Http;
using Eddy.Web;
using Microsoft.Extensions.Logging;

namespace Eddy.FunctionalTests.Hosting;

/// <summary>
/// The production host: several endpoints (HTTP and HTTPS), its start and stop lines, stop by cancellation token
/// with the drain, bind failures; and, in a child process, stop by SIGINT/SIGTERM with a request in flight.
/// </summary>
public sealed partial class ServerHostTests
{
    [Fact]
    public async Task AHostServesHttpAndHttpsEndpointsAndStopsWhenItsTokenIsCancelled()
    {
        var log = new RecordingLogger();
        var host = new ServerHost(new ServerHostOptions { LoopCount = 2, HandleSignals = false, Logger = log });
        var app = new WebApp().MapGet("/plaintext", ctx => ctx.Response.Text("Hello, World!"));
        var loopback = new IPEndPoint(IPAddress.Loopback, 0);
        host.ListenHttp(app.Build(), loopback).ListenHttps(app.Build(), loopback, TlsTestCertificates.ServerOptions(["localhost"]));
        using var stop = new CancellationTokenSource();
        Task<int> run = host.RunAsync(stop.Token);

        IReadOnlyList<EndPoint> endPoints = await host.Listening.WaitAsync(TestTimeouts.Wait);
        Assert.Equal(2, endPoints.Count);
        var http = (IPEndPoint)endPoints[0];
        var https = (IPEndPoint)endPoints[1];
        using HttpClient client = TrustingClient();
        Assert.Equal("Hello, World!", await client.GetStringAsync($"http://127.0.0.1:{http.Port}/plaintext"));
        Assert.Equal("Hello, World!", await client.GetStringAsync($"https://localhost:{https.Port}/plaintext"));
        Assert.Matches($@"^listening on http://127\.0\.0\.1:{http.Port} and https://127\.0\.0\.1:{https.Port} \(2 loops, descriptor limit \d+, connection limit \d+\)$", log.Lines.First());
        Assert.False(host.Stopping.IsCancellationRequested);

        stop.Cancel();
        Assert.Equal(0, await run.WaitAsync(TestTimeouts.Wait));
        Assert.True(host.Stopping.IsCancellationRequested);
        Assert.Equal("stopped", log.Lines.Last());
        Assert.Equal(SocketError.ConnectionRefused, await ConnectErrorAsync(http));
        Assert.Equal(SocketError.ConnectionRefused, await ConnectErrorAsync(https));
    }

    [Fact]
    public async Task ARequestInFlightWhenTheHostStopsIsAnsweredBeforeRunAsyncReturns()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = new ServerHost(new ServerHostOptions { LoopCount = 1, HandleSignals = false, Logger = new RecordingLogger() });
        var app = new WebApp().MapGet("/slow", async ctx =>
        {
            entered.TrySetResult();
            await release.Task;
            ctx.Response.Text("finished");
        });
        host.ListenHttp(app.Build(), new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task<int> run = host.RunAsync(stop.Token);
        var endPoint = (IPEndPoint)(await host.Listening.WaitAsync(TestTimeouts.Wait))[0];
        using var client = new HttpClient();
        Task<string> response = client.GetStringAsync($"http://127.0.0.1:{endPoint.Port}/slow");
        await entered.Task.WaitAsync(TestTimeouts.Wait);

        var stopping = new TaskCompletionSource();
        using (host.Stopping.Register(() => stopping.TrySetResult()))
        {
            stop.Cancel();
            await stopping.Task.WaitAsync(TestTimeouts.Wait);
        }
        // The listener closes first in the loop's shutdown (the drain follows in the same loop turn): once a connect
        // is refused, the drain has begun while the request is still held.
        await WaitUntilRefusedAsync(endPoint);
        // The drain waits for the request (the timeout is 30 s): RunAsync cannot have returned, and the
        // request is answered, not cut.
        Assert.False(run.IsCompleted);

        release.SetResult();
        Assert.Equal("finished", await response.WaitAsync(TestTimeouts.Wait));
        Assert.Equal(0, await run.WaitAsync(TestTimeouts.Wait));
    }

    [Fact]
    public async Task AnEndpointThatCannotBeBoundFailsRunAsyncWithItsAddress()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var busy = (IPEndPoint)taken.LocalEndPoint!;
        var log = new RecordingLogger();
        var host = new ServerHost(new ServerHostOptions { LoopCount = 2, HandleSignals = false, Logger = log });
        RequestHandler app = new WebApp().MapGet("/", ctx => ctx.Response.Text("hi")).Build();
        host.ListenHttp(app, new IPEndPoint(IPAddress.Loopback, 0)).ListenHttp(app, busy);

        var error = await Assert.ThrowsAsync<HostListenException>(() => host.RunAsync().WaitAsync(TestTimeouts.Wait));
        Assert.Equal(busy, error.EndPoint);
        Assert.Contains(busy.ToString(), error.Message);
        await Assert.ThrowsAsync<HostListenException>(() => host.Listening);
        Assert.Empty(log.Lines);
    }

    [Fact]
    public async Task AHostWithNothingToServeOrRunTwiceSaysSo()
    {
        var empty = new ServerHost(new ServerHostOptions { HandleSignals = false, Logger = new RecordingLogger() });
        var nothing = await Assert.ThrowsAsync<InvalidOperationException>(() => empty.RunAsync());
        Assert.Contains("nothing to serve", nothing.Message);

        var host = new ServerHost(new ServerHostOptions { LoopCount = 1, HandleSignals = false, Logger = new RecordingLogger() });
        host.ListenHttp(new WebApp().Build(), new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task<int> run = host.RunAsync(stop.Token);
        await host.Listening.WaitAsync(TestTimeouts.Wait);
        Assert.Throws<InvalidOperationException>(() => host.ListenHttp(new WebApp().Build(), new IPEndPoint(IPAddress.Loopback, 0)));
        await Assert.ThrowsAsync<InvalidOperationException>(() => host.RunAsync());
        stop.Cancel();
        Assert.Equal(0, await run.WaitAsync(TestTimeouts.Wait));
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task ASignalDrainsAHostedAppInAChildProcessWhichThenExitsZero(string signal)
    {
        using var child = ChildProcess.Start("hosted-web-app");
        string started = await child.LineContaining("listening on").WaitAsync(TimeSpan.FromSeconds(30));
        Match urls = TwoUrls().Match(started);
        Assert.True(urls.Success, started);
        Assert.StartsWith("child-host: listening on", started);
        Assert.EndsWith("; Ctrl-C stops", started);
        using var client = new HttpClient();
        Assert.Equal("Hello, World!", await client.GetStringAsync($"{urls.Groups[1].Value}/plaintext").WaitAsync(TestTimeouts.Wait));
        Assert.Equal("Hello, World!", await client.GetStringAsync($"{urls.Groups[2].Value}/plaintext").WaitAsync(TestTimeouts.Wait));
        Task<string> held = client.GetStringAsync($"{urls.Groups[1].Value}/hold");
        await child.LineContaining("hold: entered").WaitAsync(TestTimeouts.Wait);

        await child.SignalAsync(signal);

        Assert.Equal("drained", await held.WaitAsync(TestTimeouts.Wait));
        Assert.Equal(0, await child.ExitCodeAsync(TestTimeouts.Wait));
        Assert.Contains("child-host: stopped", child.AllOutput);
    }

    private static async Task<SocketError> ConnectErrorAsync(IPEndPoint endPoint)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endPoint).WaitAsync(TestTimeouts.Wait);
            return SocketError.Success;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
    }

    /// <summary>Connects until a connect is refused (each attempt is an event: accepted or refused), within the test's wait.</summary>
    private static async Task WaitUntilRefusedAsync(IPEndPoint endPoint)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Wait;
        while (await ConnectErrorAsync(endPoint) != SocketError.ConnectionRefused)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{endPoint} still accepts connections while the host stops");
        }
    }

    private static HttpClient TrustingClient()
    {
        string expected = TlsTestCertificates.Create("localhost").GetCertHashString();
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == expected;
        return new HttpClient(handler) { Timeout = TestTimeouts.Wait };
    }

    [GeneratedRegex(@"listening on (http://127\.0\.0\.1:\d+) and (http://127\.0\.0\.1:\d+) \(2 loops")]
    private static partial Regex TwoUrls();

    private sealed class RecordingLogger : ILogger
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue(formatter(state, exception));
    }
}
