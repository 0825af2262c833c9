using System.Diagnostics;
using System.Globalization;
using Eddy.Cli.Serve;

namespace Eddy.FunctionalTests.Http;

/// <summary>The demo's <c>/sse</c> as <c>curl -N</c> shows it: a clock event a second, ids counting on from Last-Event-ID.</summary>
public sealed class SseDemoTests : IDisposable
{
    private readonly HttpTestServer _server = new(DemoApp.Create(DemoApp.DefaultStaticFolder));

    public void Dispose() => _server.Dispose();

    [Theory]
    [InlineData(null, 1)]
    [InlineData("41", 42)]
    public async Task TheClockStreamsOneEventASecond(string? lastEventId, long firstId)
    {
        var start = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])["-sS", "-N", "--max-time", "30"])
        {
            start.ArgumentList.Add(arg);
        }
        if (lastEventId is not null)
        {
            start.ArgumentList.Add("-H");
            start.ArgumentList.Add($"Last-Event-ID: {lastEventId}");
        }
        start.ArgumentList.Add($"http://{_server.EndPoint}/sse");
        using Process curl = Process.Start(start)!;
        try
        {
            // Two events, read as they arrive (-N: curl does not buffer): id, event, data, blank line each.
            var lines = new List<string>();
            while (lines.Count(l => l.Length == 0) < 2)
            {
                string? line = await curl.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
                Assert.NotNull(line);
                lines.Add(line);
            }
            Assert.Equal($"id: {firstId}", lines[0]);
            Assert.Equal("event: clock", lines[1]);
            DateTime first = DateTime.Parse(lines[2]["data: ".Length..], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
            Assert.Equal($"id: {firstId + 1}", lines[4]);
            DateTime second = DateTime.Parse(lines[6]["data: ".Length..], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
            Assert.InRange(second - first, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(5)); // a second apart, on the loop's clock
        }
        finally
        {
            curl.Kill();
            await curl.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        await _server.WaitForConnectionCountAsync(0); // curl gone: the stream ended, the connection closed
    }
}
