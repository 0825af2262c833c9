using System.Diagnostics;
using System.Net.Sockets;
using Eddy.FunctionalTests.Http;
using Eddy.FunctionalTests.Transports;
using Eddy.Loop;
using Xunit.Abstractions;

namespace Eddy.FunctionalTests.Reliability;

/// <summary>
/// <see cref="GroupServer.ShutdownAsync"/>: no new connections, idle keep-alive connections closed at once,
/// requests in flight answered (with <c>Connection: close</c>) up to the drain timeout, the rest cut.
/// </summary>
public class GracefulShutdownTests(ITestOutputHelper output) : IDisposable
{
    private readonly HttpTestServer _server = new(ReliabilityApp.Create());

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task ShutdownClosesIdleConnectionsAtOnceFinishesRequestsInFlightAndRefusesNewOnes()
    {
        using Socket idle = await Client.ConnectAsync(_server.EndPoint);
        Assert.True(await HttpTestServer.PlaintextOnAsync(idle, TestTimeouts.Wait));
        using Socket busy = await Client.ConnectAsync(_server.EndPoint);
        await busy.SendAsync("GET /slow/2000 HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        await Task.Delay(200); // the handler is running

        var clock = Stopwatch.StartNew();
        Task shutdown = _server.Server.ShutdownAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("", await HttpTestServer.ReadUntilClosedAsync(idle, TestTimeouts.Wait));
        TimeSpan idleClosedAfter = clock.Elapsed;
        Assert.True(idleClosedAfter < TimeSpan.FromSeconds(1.5), $"the idle connection was closed only after {idleClosedAfter} (the request in flight takes 2 s)");
        SocketException refused = await Assert.ThrowsAsync<SocketException>(async () => (await Client.ConnectAsync(_server.EndPoint)).Dispose());
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        string answer = await HttpTestServer.ReadUntilClosedAsync(busy, TestTimeouts.Wait);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer);
        Assert.Contains("\r\nConnection: close\r\n", answer);
        Assert.EndsWith("slept", answer);
        await shutdown.WaitAsync(TestTimeouts.Wait);
        output.WriteLine($"idle connection closed after {idleClosedAfter.TotalMilliseconds:F0} ms; shutdown with a 2 s request in flight took {clock.Elapsed.TotalSeconds:F2} s");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"shutdown took {clock.Elapsed} for a 2 s request");
        Assert.Equal(0, await _server.Server.GetConnectionCountAsync());
        Assert.Empty(_server.Errors);
    }

    [Fact]
    public async Task ShutdownCutsARequestStillRunningAtTheDrainTimeout()
    {
        using Socket stuck = await Client.ConnectAsync(_server.EndPoint);
        await stuck.SendAsync("GET /slow/60000 HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        await Task.Delay(200);

        var clock = Stopwatch.StartNew();
        await _server.Server.ShutdownAsync(TimeSpan.FromMilliseconds(500)).WaitAsync(TestTimeouts.Wait);

        output.WriteLine($"shutdown with a 0.5 s drain timeout took {clock.Elapsed.TotalSeconds:F2} s");
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.45, 5);
        Assert.Equal("", await HttpTestServer.ReadUntilClosedAsync(stuck, TestTimeouts.Wait));
        Assert.Equal(0, await _server.Server.GetConnectionCountAsync());
    }

    [Fact]
    public async Task AStreamedResponseInFlightIsFinishedBeforeItsConnectionCloses()
    {
        using Socket streaming = await Client.ConnectAsync(_server.EndPoint);
        await streaming.SendAsync("GET /stream/4 HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        await Client.ReceiveExactlyAsync(streaming, 1000); // the head is out, so no Connection: close can be added

        Task shutdown = _server.Server.ShutdownAsync(TimeSpan.FromSeconds(30));
        string answer = await HttpTestServer.ReadUntilClosedAsync(streaming, TestTimeouts.Wait);
        await shutdown.WaitAsync(TestTimeouts.Wait);

        Assert.EndsWith("\r\n0\r\n\r\n", answer); // the last chunk: the stream ended whole
        Assert.True(answer.Length > 4 * 1024 * 1024 - 1000, $"only {answer.Length} more bytes of a 4 MiB stream");
    }
}
