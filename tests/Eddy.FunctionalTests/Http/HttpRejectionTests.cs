using Eddy.Cli.Serve;
using Eddy.Http;
using Eddy.Web;

namespace Eddy.FunctionalTests.Http;

/// <summary>Malformed and hostile requests get the right status, then the connection is closed cleanly; the server goes on.</summary>
public class HttpRejectionTests : IDisposable
{
    private readonly HttpTestServer _server = new(DemoApp.Create(DemoApp.DefaultStaticFolder), new HttpServerOptions { MaxRequestBodySize = 1000 });

    public void Dispose() => _server.Dispose();

    [Theory]
    [InlineData("TE and CL together (smuggling)", "POST /anything HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)]
    [InlineData("differing Content-Length", "POST /anything HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400)]
    [InlineData("Content-Length with a sign", "POST /anything HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", 400)]
    [InlineData("unknown transfer coding", "POST /anything HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501)]
    [InlineData("a coding without chunked (length unknowable)", "POST /anything HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400)]
    [InlineData("chunked not final", "POST /anything HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400)]
    [InlineData("invalid chunk size", "POST /anything HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400)]
    [InlineData("whitespace before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400)]
    [InlineData("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n", 400)]
    [InlineData("control character in a value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n", 400)]
    [InlineData("missing Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", 400)]
    [InlineData("duplicate Host", "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400)]
    [InlineData("unsupported version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505)]
    [InlineData("garbage request line", "HELLO\r\n\r\n", 400)]
    [InlineData("body over the limit", "POST /anything HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413)]
    [InlineData("chunked body over the limit", "POST /anything HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n", 413)]
    public async Task MalformedRequestsGetTheirStatusAndTheConnectionIsClosed(string what, string request, int status)
    {
        string raw = await _server.RawAsync(request);

        Assert.True(raw.StartsWith($"HTTP/1.1 {status} "), $"{what}: got {raw.Split('\r')[0]}");
        Assert.Contains("Connection: close", raw);
        Assert.Empty(_server.Errors);
        await _server.AssertServesPlaintextAsync();
    }

    [Fact]
    public async Task AnOverlongRequestLineIs414()
    {
        string raw = await _server.RawAsync($"GET /{new string('a', 9000)} HTTP/1.1\r\nHost: x\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 414 ", raw);
        await _server.AssertServesPlaintextAsync();
    }

    [Fact]
    public async Task TooManyOrTooLargeHeadersAre431()
    {
        string many = string.Concat(Enumerable.Range(0, 101).Select(i => $"X-{i}: v\r\n"));
        string large = $"X-Big: {new string('b', 33 * 1024)}\r\n";

        Assert.StartsWith("HTTP/1.1 431 ", await _server.RawAsync($"GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n"));
        Assert.StartsWith("HTTP/1.1 431 ", await _server.RawAsync($"GET / HTTP/1.1\r\nHost: x\r\n{large}\r\n"));
        await _server.AssertServesPlaintextAsync();
    }

    [Fact]
    public async Task BinaryGarbageAndATlsHelloAreRejectedWithoutHarm()
    {
        var random = new Random(7);
        byte[] garbage = new byte[4096];
        random.NextBytes(garbage);
        byte[] clientHello = [0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, .. new byte[64]];

        string first = await _server.RawAsync(System.Text.Encoding.Latin1.GetString(garbage));
        string second = await _server.RawAsync(System.Text.Encoding.Latin1.GetString(clientHello));

        Assert.True(first.Length == 0 || first.StartsWith("HTTP/1.1 400 "), first.Split('\r')[0]);
        Assert.True(second.Length == 0 || second.StartsWith("HTTP/1.1 400 "), second.Split('\r')[0]);
        Assert.Empty(_server.Errors);
        await _server.AssertServesPlaintextAsync();
    }

    [Fact]
    public async Task ARequestAfterAMalformedOneOnTheSameConnectionIsNotServed()
    {
        // After a 400 the connection is closed: bytes behind the bad request must never be taken as a request.
        string raw = await _server.RawAsync("GET / HTTP/1.1\r\nHost : x\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n");

        Assert.Single(raw.Split("HTTP/1.1 ").Skip(1));
        Assert.DoesNotContain("Hello, World!", raw);
    }
}

/// <summary>An exception in a handler is a 500 with no details, logged with the request line; the connection and server go on.</summary>
public class HttpHandlerErrorTests
{
    [Fact]
    public async Task AThrowingHandlerGetsA500WithoutDetailsAndIsLogged()
    {
        var app = new WebApp();
        app.MapGet("/boom", _ => throw new InvalidOperationException("secret internal detail"));
        app.MapGet("/boom-later", async context =>
        {
            await context.Loop.Delay(TimeSpan.FromMilliseconds(10));
            throw new InvalidOperationException("secret async detail");
        });
        app.MapGet("/ok", context => context.Response.Text("ok"));
        using var server = new HttpTestServer(app);

        string raw = await server.RawAsync("GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /boom-later HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.Equal(2, raw.Split("HTTP/1.1 500 Internal Server Error").Length - 1);
        Assert.DoesNotContain("secret", raw);
        Assert.EndsWith("ok", raw);
        Assert.Equal(2, server.Errors.Count);
        Assert.All(server.Errors, e => Assert.Contains("GET /boom", e.Message));
    }
}
