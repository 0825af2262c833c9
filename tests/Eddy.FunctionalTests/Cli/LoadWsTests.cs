using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Eddy.Cli.Serve;
using Eddy.FunctionalTests.Http;
using Eddy.Web;
using Eddy.WebSockets;

namespace Eddy.FunctionalTests.Cli;

/// <summary><c>eddy load ws</c> against Eddy's /ws/echo and against endpoints that misbehave: counts, JSON, failures by kind.</summary>
public sealed class LoadWsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static async Task<(EddyCli.Result Result, JsonElement Root)> RunAsync(string url, params string[] more)
    {
        string json = Path.Combine(Path.GetTempPath(), $"eddy-load-ws-{Guid.NewGuid():N}.json");
        try
        {
            EddyCli.Result result = await EddyCli.RunAsync(Timeout, ["load", "ws", url, "--json", json, .. more]);
            Assert.True(File.Exists(json), $"no JSON written; stderr: {result.Stderr}");
            using JsonDocument report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            return (result, report.RootElement.Clone());
        }
        finally
        {
            File.Delete(json);
        }
    }

    /// <summary>An endpoint that answers every message with <paramref name="answer"/>'s rewrite of it (or nothing, for null).</summary>
    private static WebApp App(Func<byte[], byte[]?> answer)
    {
        var app = new WebApp();
        app.MapWebSocket("/ws", async (context, ws) =>
        {
            byte[] buffer = new byte[64 * 1024];
            while (true)
            {
                int count = 0;
                ValueWebSocketReceiveResult r;
                do
                {
                    r = await ws.ReceiveAsync(buffer.AsMemory(count));
                    count += r.Count;
                }
                while (!r.EndOfMessage && r.MessageType != WebSocketMessageType.Close);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                if (answer(buffer[..count]) is { } reply)
                {
                    await ws.SendAsync(reply, r.MessageType);
                }
            }
        });
        return app;
    }

    [Fact]
    public async Task AMessageLimitIsEchoedExactlyWithPipelining()
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        string html = Path.Combine(Path.GetTempPath(), $"eddy-load-ws-{Guid.NewGuid():N}.html");
        try
        {
            var (result, root) = await RunAsync($"ws://{server.EndPoint}/ws/echo", "-c", "4", "--pipeline", "3", "--size", "2000", "-n", "500", "-d", "30s", "--html", html);
            Assert.Equal(0, result.ExitCode);
            Assert.Equal(500, root.GetProperty("messages").GetInt64());
            Assert.Equal(0, root.GetProperty("errors").GetInt64());
            Assert.Equal(4, root.GetProperty("connected").GetInt32());
            Assert.Equal("binary", root.GetProperty("messageType").GetString());
            Assert.True(root.GetProperty("latencyUs").GetProperty("p50").GetInt64() > 0);
            Assert.InRange(root.GetProperty("seconds").GetDouble(), 0.0001, 20);
            Assert.Equal(500 * 2000 / root.GetProperty("seconds").GetDouble(), root.GetProperty("bytesPerSecond").GetDouble(), 0.001);
            Assert.Contains("<polyline", await File.ReadAllTextAsync(html));
            Assert.Contains("500 in", result.Stdout);
        }
        finally
        {
            File.Delete(html);
        }
    }

    [Fact]
    public async Task ADurationRunOfTextEchoesForThatLong()
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        var (result, root) = await RunAsync($"ws://{server.EndPoint}/ws/echo", "-c", "8", "--text", "--size", "32", "-d", "1s", "--quiet");
        Assert.Equal(0, result.ExitCode);
        Assert.True(root.GetProperty("messages").GetInt64() > 100);
        Assert.Equal(0, root.GetProperty("errors").GetInt64());
        Assert.Equal("text", root.GetProperty("messageType").GetString());
        Assert.InRange(root.GetProperty("seconds").GetDouble(), 0.9, 1.1); // the window ends at the deadline
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task AWrongEchoIsAMismatchAndARefusedHandshakeAConnectError()
    {
        using var server = new HttpTestServer(App(m =>
        {
            m[^1] ^= 1;
            return m;
        }));
        var (result, root) = await RunAsync($"ws://{server.EndPoint}/ws", "-c", "3", "-d", "5s");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(0, root.GetProperty("messages").GetInt64());
        Assert.Equal(3, root.GetProperty("errorsByKind").GetProperty("mismatch").GetInt64());
        Assert.Equal(3, root.GetProperty("errorDetails").GetProperty("mismatch").GetProperty("echo of other bytes").GetInt64());

        (result, root) = await RunAsync($"ws://{server.EndPoint}/elsewhere", "-c", "2", "-d", "1s");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(2, root.GetProperty("errorDetails").GetProperty("connect").GetProperty("handshake: BadStatus (404)").GetInt64());
        Assert.Contains("BadStatus (404)", result.Stdout);
    }

    [Fact]
    public async Task AnEchoThatNeverComesIsATimeout()
    {
        using var server = new HttpTestServer(App(_ => null));
        var (result, root) = await RunAsync($"ws://{server.EndPoint}/ws", "-c", "2", "-d", "5s", "--timeout", "300ms");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(2, root.GetProperty("errorsByKind").GetProperty("timeout").GetInt64());
        Assert.Equal(2, root.GetProperty("errorDetails").GetProperty("timeout").GetProperty("read").GetInt64());
    }

    [Fact]
    public async Task IdleConnectionsAreHeldOpenForTheDuration()
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        var (result, root) = await RunAsync($"ws://{server.EndPoint}/ws/echo", "-c", "20", "--idle", "-d", "300ms");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("idle", root.GetProperty("mode").GetString());
        Assert.Equal(20, root.GetProperty("connected").GetInt32());
        Assert.Equal(0, root.GetProperty("messages").GetInt64());
        Assert.Contains("connected       20 of 20", result.Stdout);
        await server.WaitForConnectionCountAsync(0); // and closed at the end
    }

    [Theory]
    [InlineData("http://127.0.0.1:1/", "is not a WebSocket URL")]
    [InlineData("ws://127.0.0.1:1/", "--pipeline must be at least 1", "--pipeline", "0")]
    [InlineData("ws://127.0.0.1:1/", "--messages cannot be combined with --idle", "--idle", "-n", "5")]
    [InlineData("ws://127.0.0.1:1/", "--insecure needs a wss:// URL", "-k")]
    public async Task BadInputIsOneClearError(string url, string message, params string[] more)
    {
        EddyCli.Result result = await EddyCli.RunAsync(Timeout, ["load", "ws", url, .. more]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr);
    }
}
