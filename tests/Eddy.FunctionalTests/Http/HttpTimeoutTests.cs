using Eddy.Cli.Serve;
using Eddy.Http;

namespace Eddy.FunctionalTests.Http;

/// <summary>
/// The heartbeat on a real loop: a slowloris head is cut while others are served. Each timeout's rules are
/// tested in memory on a manual clock (Eddy.UnitTests HttpConnectionTimeoutTests, HttpConnectionBodyTests);
/// this checks that a real server runs them.
/// </summary>
public class HttpTimeoutTests : IDisposable
{
    private readonly HttpTestServer _server = new(DemoApp.Create(DemoApp.DefaultStaticFolder), new HttpServerOptions
    {
        RequestHeadersTimeout = TimeSpan.FromSeconds(2),
    });

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task ASlowlorisHeadIsAnswered408AndClosedWhileOthersAreServed()
    {
        using var slow = await _server.ConnectAsync();
        await slow.SendAsync("GET /plaintext HTTP/1.1\r\nHost: x\r\n"u8.ToArray()); // never finishes the head

        string normal = await _server.RawAsync("GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.EndsWith("Hello, World!", normal);
        Assert.Equal(0, slow.Available); // served while the slow head was still waiting for its timeout

        string raw = await HttpTestServer.ReadToEndAsync(slow, timeoutMs: 10_000);
        Assert.StartsWith("HTTP/1.1 408 ", raw);
        Assert.Empty(_server.Errors);
    }
}
