using System.Diagnostics;
using System.Diagnostics.Metrics;
using Eddy.Cli.Serve;
using Eddy.Http.Internal;
using Eddy.Http.Parsing;
using Eddy.Web;
using Prometheus;

namespace Eddy.Microbenchmarks;

/// <summary>
/// What <c>eddy serve --metrics</c> costs a request, without the server: a request's measurements as HttpConnection
/// makes them (<c>http.server.active_requests</c> ±1 into the loop thread's count; <c>http.server.request.duration</c>,
/// two clock reads and one measurement with four tags) with
/// nobody listening (<c>none</c>), with prometheus-net's <see cref="MeterAdapter"/> listening to every Eddy
/// instrument (<c>adapter</c>: what <c>--metrics</c> did before), or as <c>--metrics</c> does now
/// (<c>direct</c>: <see cref="ServeMetrics"/>). Listeners are process-wide: one mode per process
/// (<c>quick metrics none|adapter|direct</c>).
/// </summary>
internal static class MetricsCost
{
    public static void Listen(string mode)
    {
        switch (mode)
        {
            case "none":
                break;
            case "adapter":
                Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true, SuppressEventCounters = true, SuppressDebugMetrics = true });
                MeterAdapter.StartListening(new MeterAdapterOptions
                {
                    Registry = Metrics.DefaultRegistry,
                    InstrumentFilterPredicate = instrument => ServeMetrics.IsExported(instrument.Meter.Name),
                });
                break;
            case "direct":
                ServeMetrics.Map(new WebApp());
                break;
            default:
                throw new ArgumentException($"unknown mode '{mode}': none, adapter or direct");
        }
    }

    /// <summary>One request's measurements, as HttpConnection makes them: each only when its instrument is enabled.</summary>
    public static int Request()
    {
        HttpMetrics metrics = HttpMetrics.Shared;
        if (metrics.ActiveRequests.Enabled)
        {
            metrics.AddActive(1, HttpVerb.Get, https: false);
        }
        long startedAt = metrics.RequestDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
        if (metrics.ActiveRequests.Enabled)
        {
            metrics.AddActive(-1, HttpVerb.Get, https: false);
        }
        if (startedAt != 0 && metrics.RequestDuration.Enabled)
        {
            metrics.RecordDuration(startedAt, "GET", "http", 200, "/plaintext");
        }
        return 0;
    }
}
