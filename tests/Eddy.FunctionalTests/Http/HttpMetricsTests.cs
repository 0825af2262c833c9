using Eddy.Http;
using Eddy.Web;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Eddy.FunctionalTests.Http;

/// <summary>The HTTP server's instruments (meter "Eddy.Http"), through a server's own meter factory.</summary>
public sealed class HttpMetricsTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly TestMeterFactory _meters = new();
    private readonly MetricCollector<double> _duration;
    private readonly MetricCollector<long> _active;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HttpTestServer _server;

    public HttpMetricsTests()
    {
        _duration = new MetricCollector<double>(_meters, "Eddy.Http", "http.server.request.duration");
        _active = new MetricCollector<long>(_meters, "Eddy.Http", "http.server.active_requests");
        var app = new WebApp();
        app.MapGet("/users/{id}", context => context.Response.Text("user"));
        app.MapPost("/fail", (Action<HttpContext>)(_ => throw new InvalidOperationException("handler bug")));
        app.MapGet("/wait", async context =>
        {
            _entered.TrySetResult();
            await _release.Task;
            context.Response.StatusCode = 202;
            context.Response.Text("done");
        });
        _server = new HttpTestServer(app, new HttpServerOptions { MeterFactory = _meters });
    }

    public void Dispose()
    {
        _release.TrySetResult();
        _server.Dispose();
        _duration.Dispose();
        _active.Dispose();
        _meters.Dispose();
    }

    [Fact]
    public async Task RequestDurationCarriesMethodStatusRouteAndScheme()
    {
        await _server.RawAsync("GET /users/42 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        await _server.RawAsync("GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        await _server.RawAsync("POST /fail HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        await _server.RawAsync("BREW /users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        await _duration.WaitForMeasurementsAsync(4, Timeout);
        var measurements = _duration.GetMeasurementSnapshot();
        Assert.Equal(4, measurements.Count);
        Assert.All(measurements, m => Assert.InRange(m.Value, 0, Timeout.TotalSeconds));
        Assert.All(measurements, m => Assert.Equal("http", m.Tags["url.scheme"]));
        Assert.Equal(("GET", 200, "/users/{id}"), Describe(measurements[0]));
        Assert.Equal(("GET", 404, null), Describe(measurements[1])); // no route matched: no http.route tag
        Assert.Equal(("POST", 500, "/fail"), Describe(measurements[2]));
        Assert.Equal(("_OTHER", 405, null), Describe(measurements[3])); // an unknown method is not a tag value of its own
        Assert.Single(_server.Errors); // the handler bug, logged as before
    }

    [Fact]
    public async Task ActiveRequestsCountsAHandlerWhileItRuns()
    {
        Task<string> response = _server.RawAsync("GET /wait HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        await _entered.Task.WaitAsync(Timeout);

        // Observable: the count is read when a listener collects.
        _active.RecordObservableInstruments();
        CollectedMeasurement<long> started = Assert.Single(_active.GetMeasurementSnapshot());
        Assert.Equal(1, started.Value);
        Assert.Equal("GET", started.Tags["http.request.method"]);
        Assert.Equal("http", started.Tags["url.scheme"]);
        Assert.Empty(_duration.GetMeasurementSnapshot());

        _release.SetResult();
        Assert.Contains("202", await response);
        // The duration is recorded just after the count is taken back: once it is in, the request is counted out.
        await _duration.WaitForMeasurementsAsync(1, Timeout);
        _active.RecordObservableInstruments();
        Assert.Equal([1, 0], _active.GetMeasurementSnapshot().Select(m => m.Value)); // the series stays, at 0
        Assert.Equal(("GET", 202, "/wait"), Describe(Assert.Single(_duration.GetMeasurementSnapshot())));
    }

    [Fact]
    public async Task ARequestWhoseClientLeftIsStillEndedOnce()
    {
        using (var socket = await _server.ConnectAsync())
        {
            await socket.SendAsync("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            await _entered.Task.WaitAsync(Timeout);
        }
        _release.SetResult(); // the handler finishes after its client has gone
        await _server.WaitForConnectionCountAsync(0);

        await _duration.WaitForMeasurementsAsync(1, Timeout);
        Assert.Single(_duration.GetMeasurementSnapshot());
        _active.RecordObservableInstruments();
        Assert.Equal(0, Assert.Single(_active.GetMeasurementSnapshot()).Value); // counted out once: not -1
    }

    private static (string Method, int Status, string? Route) Describe(CollectedMeasurement<double> m) =>
        ((string)m.Tags["http.request.method"]!, (int)m.Tags["http.response.status_code"]!, m.Tags.TryGetValue("http.route", out object? route) ? (string?)route : null);
}
