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
public class GracefulShutdownTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly HeldRequests _held = new();
    private readonly HttpTestServer _server;

    public GracefulShutdownTests(ITestOutputHelper output)
    {
        _output = output;
        _server = new(ReliabilityApp.Create(_held));
    }

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task ShutdownClosesIdleConnectionsAtOnceFinishesRequestsInFlightAndRefusesNewOnes()
    {
        using Socket idle = await Client.ConnectAsync(_server.EndPoint);
        Assert.True(await HttpTestServer.PlaintextOnAsync(idle, TestTimeouts.Wait));
        using Socket busy = await Client.ConnectAsync(_server.EndPoint);
        await busy.SendAsync("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        await _held.WaitForHandlerAsync();

        var clock = Stopwatch.StartNew();
        Task shutdown = _server.Server.ShutdownAsync(TimeSpan.FromSeconds(30));

        // While the request is still held: the idle connection is closed, and new ones are refused.
        Assert.Equal("", await HttpTestServer.ReadUntilClosedAsync(idle, TestTimeouts.Wait));
        TimeSpan idleClosedAfter = clock.Elapsed;
        // "At once" is one tick of the loop; the bound is only there to catch a close that waits for a timer.
        Assert.True(idleClosedAfter < TimeSpan.FromSeconds(3), $"the idle connection was closed only after {idleClosedAfter}");
        SocketException refused = await Assert.ThrowsAsync<SocketException>(async () => (await Client.ConnectAsync(_server.EndPoint)).Dispose());
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        Assert.False(shutdown.IsCompleted, "shutdown did not wait for the request in flight");

        _held.Release();
        string answer = await HttpTestServer.ReadUntilClosedAsync(busy, TestTimeouts.Wait);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer);
        Assert.Contains("\r\nConnection: close\r\n", answer);
        Assert.EndsWith("released", answer);
        await shutdown.WaitAsync(TestTimeouts.Wait);
        _output.WriteLine($"idle connection closed after {idleClosedAfter.TotalMilliseconds:F0} ms; shutdown took {clock.Elapsed.TotalSeconds:F2} s");
        Assert.Equal(0, await _server.Server.GetConnectionCountAsync());
        Assert.Empty(_server.Errors);
    }

    [Fact]
    public async Task ShutdownCutsARequestStillRunningAtTheDrainTimeout()
    {
        using Socket stuck = await Client.ConnectAsync(_server.EndPoint);
        await stuck.SendAsync("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray()); // never released
        await _held.WaitForHandlerAsync();

        var clock = Stopwatch.StartNew();
        await _server.Server.ShutdownAsync(TimeSpan.FromMilliseconds(500)).WaitAsync(TestTimeouts.Wait);

        _output.WriteLine($"shutdown with a 0.5 s drain timeout took {clock.Elapsed.TotalSeconds:F2} s");
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
