using Eddy.FunctionalTests.Http;
using Eddy.Http;
using Eddy.Transports.Internal;
using Eddy.Web;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Eddy.FunctionalTests.Transports;

/// <summary>
/// A server's connection instruments (meter "Eddy.Transports"). The meter is shared by the whole process, so
/// each test reads only the measurements tagged with its own server's port.
/// </summary>
public sealed class ConnectionMetricsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AConnectionIsActiveUntilItClosesAndItsDurationIsRecorded()
    {
        using var active = new MetricCollector<long>(TransportMetrics.ActiveConnections);
        using var duration = new MetricCollector<double>(TransportMetrics.ConnectionDuration);
        using var server = new HttpTestServer(new WebApp().MapGet("/", context => context.Response.Text("hi")));
        int port = server.EndPoint.Port;

        using (var socket = await server.ConnectAsync())
        {
            await server.WaitForConnectionCountAsync(1);
            long[] open = Values(active, port);
            Assert.Equal([1L], open);
            Assert.Empty(Values(duration, port));
        }
        await server.WaitForConnectionCountAsync(0);

        Assert.Equal([1L, -1L], Values(active, port));
        double seconds = Assert.Single(Values(duration, port));
        Assert.InRange(seconds, 0, Timeout.TotalSeconds);
        CollectedMeasurement<double> measurement = duration.GetMeasurementSnapshot().First(m => m.Tags.TryGetValue("server.port", out object? p) && Equals(p, port));
        Assert.Equal("tcp", measurement.Tags["network.transport"]);
        Assert.Equal("ipv4", measurement.Tags["network.type"]);
    }

    [Fact]
    public async Task AConnectionOverTheLimitIsCountedAsRejected()
    {
        using var rejected = new MetricCollector<long>(TransportMetrics.RejectedConnections);
        using var server = new HttpTestServer(new WebApp().MapGet("/", context => context.Response.Text("hi")), new HttpServerOptions { MaxConnections = 1 });
        int port = server.EndPoint.Port;

        using var first = await server.ConnectAsync();
        await server.WaitForConnectionCountAsync(1);
        using var second = await server.ConnectAsync();
        await HttpTestServer.ReadUntilClosedAsync(second, Timeout); // accepted and closed at once

        Assert.Equal([1L], Values(rejected, port));
    }

    // The instruments are shared by every test running at once: only this test's server's measurements count, and a
    // measurement without a server.port (another test's connection of another kind) is someone else's.
    private static T[] Values<T>(MetricCollector<T> collector, int port) where T : struct =>
        [.. collector.GetMeasurementSnapshot().Where(m => m.Tags.TryGetValue("server.port", out object? p) && Equals(p, port)).Select(m => m.Value)];
}
