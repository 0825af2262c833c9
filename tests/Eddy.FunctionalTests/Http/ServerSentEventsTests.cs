using System.Net.ServerSentEvents;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Serialization;
using Eddy.Http;
using Eddy.Web;

namespace Eddy.FunctionalTests.Http;

/// <summary>
/// <c>ctx.Response.SendEventsAsync</c>: the text/event-stream format, heartbeats while the producer is quiet, the producer
/// stopped when the client goes, the JSON overload, and field values that would break the format.
/// </summary>
public sealed partial class ServerSentEventsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [JsonSerializable(typeof(Tick))]
    private sealed partial class TickJson : JsonSerializerContext;

    private sealed record Tick(int N);

    private static async IAsyncEnumerable<SseItem<string>> Items(params SseItem<string>[] items)
    {
        foreach (SseItem<string> item in items)
        {
            await Task.Yield();
            yield return item;
        }
    }

    [Fact]
    public async Task EventsAreFormattedAsTheStandardSaysAndTheStreamEndsWithTheProducer()
    {
        var app = new WebApp();
        app.MapGet("/events", ctx => new ValueTask(ctx.Response.SendEventsAsync(Items(
            new SseItem<string>("hello"),
            new SseItem<string>("line 1\nline 2\r\nline 3\rline 4", "update") { EventId = "7", ReconnectionInterval = TimeSpan.FromSeconds(2) },
            new SseItem<string>("", "message"),
            new SseItem<string>("ünïcode")), new EventStreamOptions { Retry = TimeSpan.FromMilliseconds(1500) })));
        using var server = new HttpTestServer(app);
        using var client = new HttpClient { Timeout = Timeout };

        using HttpResponseMessage response = await client.GetAsync(server.Url("/events"));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoCache);
        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.Equal(
            "retry: 1500\n\n" +
            "data: hello\n\n" +
            "id: 7\nevent: update\nretry: 2000\ndata: line 1\ndata: line 2\ndata: line 3\ndata: line 4\n\n" +
            "data: \n\n" +
            "data: ünïcode\n\n",
            await response.Content.ReadAsStringAsync());

        // The BCL's parser reads it back as sent.
        using HttpResponseMessage again = await client.GetAsync(server.Url("/events"));
        var parsed = new List<SseItem<string>>();
        await foreach (SseItem<string> item in SseParser.Create(await again.Content.ReadAsStreamAsync()).EnumerateAsync())
        {
            parsed.Add(item);
        }
        Assert.Equal(["hello", "line 1\nline 2\nline 3\nline 4", "", "ünïcode"], parsed.Select(i => i.Data));
        Assert.Equal("update", parsed[1].EventType);
        Assert.Equal("7", parsed[1].EventId);
    }

    [Fact]
    public async Task HeartbeatsGoOutWhileTheProducerIsQuiet()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async IAsyncEnumerable<SseItem<string>> Quiet()
        {
            await release.Task;
            yield return new SseItem<string>("at last");
        }
        var app = new WebApp();
        app.MapGet("/quiet", ctx => new ValueTask(ctx.Response.SendEventsAsync(Quiet(), new EventStreamOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(20) })));
        using var server = new HttpTestServer(app);
        using var client = new HttpClient { Timeout = Timeout };
        using HttpResponseMessage response = await client.GetAsync(server.Url("/quiet"), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal(":", await reader.ReadLineAsync().WaitAsync(Timeout)); // a heartbeat, before any event
        Assert.Equal("", await reader.ReadLineAsync().WaitAsync(Timeout));
        release.SetResult();
        string rest = await reader.ReadToEndAsync().WaitAsync(Timeout);
        Assert.EndsWith("data: at last\n\n", rest);
        Assert.Matches("^(:\n\n)*data: at last\n\n$", rest);
    }

    [Fact]
    public async Task AClientThatGoesEndsTheProducer()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ended = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        async IAsyncEnumerable<SseItem<string>> Forever([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            try
            {
                started.TrySetResult();
                while (true)
                {
                    await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
                    yield return new SseItem<string>("never");
                }
            }
            finally
            {
                ended.TrySetResult(cancellationToken.IsCancellationRequested);
            }
        }
        var app = new WebApp();
        app.MapGet("/forever", ctx => new ValueTask(ctx.Response.SendEventsAsync(Forever(), new EventStreamOptions { HeartbeatInterval = null })));
        using var server = new HttpTestServer(app);
        using (Socket socket = await server.ConnectAsync())
        {
            await socket.SendAsync("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            await started.Task.WaitAsync(Timeout);
            byte[] head = new byte[4096];
            int n = await socket.ReceiveAsync(head).WaitAsync(Timeout);
            Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(head, 0, n));
        } // the client closes: no heartbeat is needed to notice, its EOF ends an event stream

        Assert.True(await ended.Task.WaitAsync(Timeout)); // the producer's token fired
        await server.WaitForConnectionCountAsync(0);
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task TheJsonOverloadSendsEachItemAsJson()
    {
        static async IAsyncEnumerable<SseItem<Tick>> Ticks()
        {
            for (int i = 1; i <= 3; i++)
            {
                await Task.Yield();
                yield return new SseItem<Tick>(new Tick(i), "tick") { EventId = i.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            }
        }
        var app = new WebApp();
        app.MapGet("/ticks", ctx => new ValueTask(ctx.Response.SendEventsAsync(Ticks(), TickJson.Default.Tick)));
        using var server = new HttpTestServer(app);
        using var client = new HttpClient { Timeout = Timeout };
        Assert.Equal(
            "id: 1\nevent: tick\ndata: {\"N\":1}\n\nid: 2\nevent: tick\ndata: {\"N\":2}\n\nid: 3\nevent: tick\ndata: {\"N\":3}\n\n",
            await client.GetStringAsync(server.Url("/ticks")));
    }

    [Theory]
    [InlineData("1\n2")]
    [InlineData("1\r")]
    [InlineData("1\0")]
    public async Task AnEventIdThatWouldBreakTheFormatIsRefused(string id)
    {
        var refused = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var app = new WebApp();
        app.MapGet("/bad", async ctx =>
        {
            try
            {
                await ctx.Response.SendEventsAsync(Items(new SseItem<string>("x") { EventId = id }));
            }
            catch (ArgumentException e)
            {
                refused.TrySetResult(e.Message);
            }
        });
        using var server = new HttpTestServer(app);
        string response = await server.RawAsync("GET /bad HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.Contains("line break", await refused.Task.WaitAsync(Timeout)); // the BCL's SseItem refuses CR and LF itself; NUL is ours
        Assert.DoesNotContain("data: x", response);
    }

    [Fact]
    public async Task AHeadRequestGetsTheHeadOnly()
    {
        var app = new WebApp();
        app.MapGet("/events", ctx => new ValueTask(ctx.Response.SendEventsAsync(Items(new SseItem<string>("x")))));
        using var server = new HttpTestServer(app);
        string response = await server.RawAsync("HEAD /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", response);
        Assert.Contains("Content-Type: text/event-stream", response);
        Assert.EndsWith("\r\n\r\n", response);
    }
}
