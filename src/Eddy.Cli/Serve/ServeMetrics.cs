using System.Diagnostics.Metrics;
using Eddy.Http;
using Eddy.Web;
using Prometheus;

namespace Eddy.Cli.Serve;

/// <summary>
/// <c>eddy serve --metrics</c>: Eddy's meters (Eddy.Loop, Eddy.Transports, Eddy.Tls, Eddy.Http) and the runtime's
/// (System.Runtime) at <c>/metrics</c> in the Prometheus text format. prometheus-net's <see cref="MeterAdapter"/>
/// listens to the instruments and its registry writes the text: a stable, widely used exporter (OpenTelemetry's
/// Prometheus exporters are still beta, and only for ASP.NET Core or HttpListener).
/// </summary>
internal static class ServeMetrics
{
    /// <summary>What /metrics answers with (the exposition format's version 0.0.4).</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    // The loop lag is well under a millisecond when all is well: the default buckets (5 ms and up) would lump it together.
    private static readonly double[] s_lagBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    // ASP.NET Core's advice for http.server.request.duration, and Kestrel's for connections and handshakes.
    private static readonly double[] s_durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    /// <summary>Starts listening to the meters and maps <c>GET /metrics</c>. Call once, before the app is built.</summary>
    public static void Map(WebApp app)
    {
        // Only what is asked for: prometheus-net would otherwise also listen to every meter and EventCounter.
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions
        {
            SuppressMeters = true,
            SuppressEventCounters = true,
            SuppressDebugMetrics = true,
        });
        CollectorRegistry registry = Metrics.DefaultRegistry;
        MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = registry,
            InstrumentFilterPredicate = instrument => IsExported(instrument.Meter.Name),
            ResolveHistogramBuckets = instrument => instrument.Name == "eddy.loop.lag" ? s_lagBuckets : s_durationBuckets,
        });
        app.MapGet("/metrics", context => ExportAsync(registry, context));
    }

    public static bool IsExported(string meterName) => meterName.StartsWith("Eddy.", StringComparison.Ordinal) || meterName == "System.Runtime";

    private static async ValueTask ExportAsync(CollectorRegistry registry, HttpContext context)
    {
        // Collecting reads every instrument under prometheus-net's locks: done on the thread pool, so a scrape
        // never holds up the loop that serves it. The await resumes on the loop, which then sends the text.
        byte[] text = await Task.Run(async () =>
        {
            using var buffer = new MemoryStream();
            await registry.CollectAndExportAsTextAsync(buffer).ConfigureAwait(false);
            return buffer.ToArray();
        });
        context.Response.Bytes(text, ContentType);
    }
}
