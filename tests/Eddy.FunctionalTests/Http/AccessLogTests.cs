using Eddy.Http;
using Eddy.Web;
using Microsoft.Extensions.Logging;

namespace Eddy.FunctionalTests.Http;

/// <summary><see cref="WebApp.UseAccessLog"/>: one structured entry per request.</summary>
public sealed class AccessLogTests : IDisposable
{
    private readonly ListLogger _log = new();
    private readonly HttpTestServer _server;

    public AccessLogTests()
    {
        var app = new WebApp().UseAccessLog(_log);
        app.MapGet("/items/{id}", context => context.Response.Text("item ü")); // 7 bytes in UTF-8
        app.MapGet("/stream", async context =>
        {
            await context.Response.WriteAsync("abc"u8.ToArray());
            await context.Response.WriteAsync("defg"u8.ToArray());
        });
        app.MapGet("/fail", (Action<HttpContext>)(_ => throw new InvalidOperationException("handler bug")));
        _server = new HttpTestServer(app);
    }

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task EachRequestIsLoggedWithItsFields()
    {
        await _server.RawAsync("GET /items/5?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        await _server.RawAsync("GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        await _server.RawAsync("HEAD /items/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        await _server.RawAsync("DELETE /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        var entries = _log.Entries;
        Assert.Equal(4, entries.Count);
        Assert.All(entries, e => Assert.Equal(LogLevel.Information, e.Level));
        Assert.All(entries, e => Assert.Equal("AccessLog", e.Id.Name));
        Assert.All(entries, e => Assert.InRange((double)e.Fields["DurationMs"]!, 0, 10_000));
        Assert.Equal(("GET", "/items/5", "/items/{id}", 200, 7L), Fields(entries[0]));
        Assert.Equal(("GET", "/stream", "/stream", 200, 7L), Fields(entries[1]));
        Assert.Equal(("HEAD", "/items/5", "/items/{id}", 200, 0L), Fields(entries[2]));
        Assert.Equal(("DELETE", "/nowhere", null, 404, 10L), Fields(entries[3])); // "Not Found\n"
        Assert.StartsWith("GET /items/5 200 ", entries[0].Message);
    }

    [Fact]
    public async Task AFailedHandlerIsLoggedAsAWarningWithThe500()
    {
        Assert.StartsWith("HTTP/1.1 500", await _server.RawAsync("GET /fail HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));

        var entry = Assert.Single(_log.Entries);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Equal(("GET", "/fail", "/fail", 500, 0L), Fields(entry));
    }

    private static (string, string, string?, int, long) Fields((LogLevel Level, EventId Id, string Message, IReadOnlyDictionary<string, object?> Fields) entry) =>
        ((string)entry.Fields["Method"]!, (string)entry.Fields["Path"]!, (string?)entry.Fields["Route"], (int)entry.Fields["StatusCode"]!, (long)entry.Fields["BodyBytes"]!);
}
