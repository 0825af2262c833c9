using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Eddy.Cli.Serve;
using Eddy.Http;
using Eddy.Web;

namespace Eddy.FunctionalTests.Http;

/// <summary>Eddy's HTTP server and the demo app against real clients: HttpClient and raw sockets.</summary>
public class HttpServerTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly HttpTestServer _server = new(DemoApp.Create(DemoApp.DefaultStaticFolder));
    private readonly HttpClient _client = new() { Timeout = Timeout };

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
        Assert.Empty(_server.Errors);
    }

    [Fact]
    public async Task PlaintextAnswersHelloWorldWithDateAndServerFields()
    {
        using HttpResponseMessage response = await _client.GetAsync(_server.Url("/plaintext"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Hello, World!", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(13, response.Content.Headers.ContentLength);
        Assert.Equal("eddy", response.Headers.Server.ToString());
        Assert.True(response.Headers.Date is { } date && Math.Abs((date - DateTimeOffset.UtcNow).TotalSeconds) < 5);
    }

    [Fact]
    public async Task JsonAnswersTheTechEmpowerMessage()
    {
        using HttpResponseMessage response = await _client.GetAsync(_server.Url("/json"));

        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("""{"message":"Hello, World!"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnythingEchoesTheRequestLikeHttpbin()
    {
        var request = new HttpRequestMessage(HttpMethod.Put, _server.Url("/anything/a%20b/c?x=1&y=two+words"))
        {
            Content = new StringContent("héllo", Encoding.UTF8, "text/plain"),
        };
        request.Headers.TryAddWithoutValidation("X-Custom", "one");
        request.Headers.TryAddWithoutValidation("x-custom", "two");

        using HttpResponseMessage response = await _client.SendAsync(request);
        using JsonDocument json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        JsonElement root = json.RootElement;

        Assert.Equal("PUT", root.GetProperty("method").GetString());
        Assert.Equal("/anything/a%20b/c?x=1&y=two+words", root.GetProperty("url").GetString());
        Assert.Equal("héllo", root.GetProperty("data").GetString());
        Assert.Equal("two words", root.GetProperty("args").GetProperty("y").GetString());
        Assert.Equal("one, two", root.GetProperty("headers").GetProperty("X-Custom").GetString());
        Assert.Equal("127.0.0.1", root.GetProperty("origin").GetString());
    }

    [Fact]
    public async Task AChunkedRequestBodyArrivesWhole()
    {
        byte[] body = Enumerable.Range(0, 100_000).Select(i => (byte)('a' + i % 26)).ToArray();
        var content = new StreamContent(new NonSeekableStream(body)); // no length: HttpClient sends it chunked
        using HttpResponseMessage response = await _client.PostAsync(_server.Url("/anything"), content);
        using JsonDocument json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(Encoding.ASCII.GetString(body), json.RootElement.GetProperty("data").GetString());
        Assert.False(json.RootElement.GetProperty("headers").TryGetProperty("Content-Length", out _));
    }

    [Fact]
    public async Task ExpectContinueGetsAHundredContinueAndTheBodyIsRead()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _server.Url("/anything")) { Content = new StringContent("after continue") };
        request.Headers.ExpectContinue = true;

        using HttpResponseMessage response = await _client.SendAsync(request);
        using JsonDocument json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("after continue", json.RootElement.GetProperty("data").GetString());
    }

    [Fact]
    public async Task AnUnknownPathIs404AndAWrongMethodIs405WithAllow()
    {
        using HttpResponseMessage missing = await _client.GetAsync(_server.Url("/missing"));
        using HttpResponseMessage wrongMethod = await _client.DeleteAsync(_server.Url("/plaintext"));

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal(["GET", "HEAD"], wrongMethod.Content.Headers.Allow.Order());
    }

    [Fact]
    public async Task HeadGetsTheFieldsOfGetWithoutABody()
    {
        string raw = await _server.RawAsync("HEAD /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", raw);
        Assert.Contains("Content-Length: 13\r\n", raw);
        Assert.EndsWith("\r\n\r\n", raw);
    }

    [Fact]
    public async Task PipelinedRequestsAreAnsweredInOrderInOneBatch()
    {
        string requests = string.Concat(Enumerable.Range(0, 20).Select(i =>
            i % 2 == 0 ? $"GET /anything/{i} HTTP/1.1\r\nHost: x\r\n\r\n" : "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"))
            + "GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

        string raw = await _server.RawAsync(requests);

        int position = 0;
        for (int i = 0; i < 20; i++)
        {
            string expected = i % 2 == 0 ? $"\"url\": \"/anything/{i}\"" : "Hello, World!";
            int found = raw.IndexOf(expected, position, StringComparison.Ordinal);
            Assert.True(found >= 0, $"response {i} missing or out of order");
            position = found;
        }
        Assert.EndsWith("""{"message":"Hello, World!"}""", raw);
        Assert.Equal(21, raw.Split("HTTP/1.1 200 OK").Length - 1);
    }

    [Fact]
    public async Task ARequestSentOneByteAtATimeIsAnswered()
    {
        using var socket = await _server.ConnectAsync();
        foreach (byte b in "POST /anything HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"u8.ToArray())
        {
            await socket.SendAsync(new[] { b });
        }
        string raw = await HttpTestServer.ReadToEndAsync(socket);

        Assert.StartsWith("HTTP/1.1 200 OK", raw);
        Assert.Contains("\"data\": \"hello\"", raw);
    }

    [Fact]
    public async Task AClientThatHalfClosesAfterItsRequestStillGetsTheAnswer()
    {
        string raw = await _server.RawAsync("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", halfClose: true);

        Assert.StartsWith("HTTP/1.1 200 OK", raw);
        Assert.EndsWith("Hello, World!", raw);
    }

    [Fact]
    public async Task KeepAliveServesManyRequestsOnOneConnection()
    {
        using var socket = await _server.ConnectAsync();
        var buffer = new byte[4096];
        for (int i = 0; i < 50; i++)
        {
            await socket.SendAsync("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            int total = 0;
            while (!Encoding.ASCII.GetString(buffer, 0, total).EndsWith("Hello, World!"))
            {
                int n = await socket.ReceiveAsync(buffer.AsMemory(total)).AsTask().WaitAsync(Timeout);
                Assert.True(n > 0, $"the connection closed after {i} requests");
                total += n;
            }
        }
    }

    [Fact]
    public async Task Http10ClosesAfterTheResponseUnlessKeepAliveIsAsked()
    {
        string raw = await _server.RawAsync("GET /plaintext HTTP/1.0\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 OK", raw);
        Assert.Contains("Connection: close", raw);
        Assert.EndsWith("Hello, World!", raw);
    }

    [Fact]
    public async Task TheHomePageLinksTheRoutes()
    {
        string page = await _client.GetStringAsync(_server.Url("/"));

        Assert.Contains("href=\"/plaintext\"", page);
        Assert.Contains("href=\"/json\"", page);
        Assert.Contains("/anything", page);
        Assert.Contains("/static/", page);
    }

    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
