using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Eddy.Http;
using Eddy.Http.Internal;
using Eddy.Web;
using Prometheus;

namespace Eddy.Cli.Serve;

/// <summary>
/// <c>eddy serve --metrics</c>: Eddy's meters (Eddy.Loop, Eddy.Transports, Eddy.Tls, Eddy.Http) and the runtime's
/// (System.Runtime) at <c>/metrics</c> in the Prometheus text format. prometheus-net's <see cref="MeterAdapter"/>
/// listens to the instruments and its registry writes the text: a stable, widely used exporter (OpenTelemetry's
/// Prometheus exporters are still beta, and only for ASP.NET Core or HttpListener). The one instrument measured on
/// every request, <c>http.server.request.duration</c>, goes into the same registry by a direct path
/// (<see cref="RequestDurations"/>) that costs a fraction of the adapter's.
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
        // The one instrument measured per request goes by RequestDurations' direct path; the adapter takes the rest.
        RequestDurations.Start(Metrics.WithCustomRegistry(registry), s_durationBuckets);
        MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = registry,
            InstrumentFilterPredicate = instrument => IsExported(instrument.Meter.Name) && !RequestDurations.Handles(instrument),
            ResolveHistogramBuckets = instrument => instrument.Name == "eddy.loop.lag" ? s_lagBuckets : s_durationBuckets,
        });
        app.MapGet("/metrics", context => ExportAsync(registry, context));
    }

    public static bool IsExported(string meterName) => meterName.StartsWith("Eddy.", StringComparison.Ordinal) || meterName == "System.Runtime";

    /// <summary>
    /// <c>http.server.request.duration</c> into a prometheus-net histogram, for a fraction of what the general adapter
    /// costs. <see cref="MeterAdapter"/> resolves every measurement from scratch: tag names and values to new string
    /// arrays, the metric by name and labels, a lease on the child — ~450 ns per request, most of what metrics cost
    /// (BENCHMARKS.md, "Metrics on and off"). Here the four tags of Eddy's own instrument are known: they are read
    /// off the span, the histogram child of that label set is kept in a dictionary the first time it is seen, and
    /// each later request is a lookup and prometheus-net's own <c>Observe</c>. The metric is the one the adapter
    /// would make (name, help, label names, buckets), so the exposition is unchanged. Label sets are bounded as the
    /// tags are: known methods or <c>_OTHER</c>, status codes, the app's route templates, two schemes.
    /// </summary>
    private static class RequestDurations
    {
        private static readonly ConcurrentDictionary<Labels, Histogram.Child> s_children = new();
        private static Histogram? s_histogram;
        private static MeterListener? s_listener;

        public static bool Handles(Instrument instrument) => instrument.Meter.Name == HttpMetrics.MeterName && instrument.Name == HttpMetrics.RequestDurationName;

        public static void Start(IMetricFactory factory, double[] buckets)
        {
            if (s_listener is not null)
            {
                return; // one listener per process, as the adapter's: a second would count every request twice
            }
            s_histogram = factory.CreateHistogram(
                "eddy_http_http_server_request_duration",
                "(s) Duration of HTTP server requests. (Histogram`1)", // as MeterAdapter writes an instrument's help
                ["http_request_method", "http_response_status_code", "http_route", "url_scheme"],
                new HistogramConfiguration { Buckets = buckets });
            s_listener = new MeterListener
            {
                InstrumentPublished = static (instrument, listener) =>
                {
                    if (Handles(instrument))
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            s_listener.SetMeasurementEventCallback<double>(static (_, seconds, tags, _) => Observe(seconds, tags));
            s_listener.Start();
        }

        private static void Observe(double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = default(Labels);
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                switch (tag.Key)
                {
                    case HttpMetrics.MethodTagName: labels.Method = tag.Value as string; break;
                    case HttpMetrics.StatusCodeTagName: labels.Status = tag.Value is int code ? code : 0; break;
                    case HttpMetrics.RouteTagName: labels.Route = tag.Value as string; break;
                    case HttpMetrics.SchemeTagName: labels.Scheme = tag.Value as string; break;
                }
            }
            if (!s_children.TryGetValue(labels, out Histogram.Child? child))
            {
                child = s_children.GetOrAdd(labels, static l => s_histogram!.WithLabels(
                    l.Method ?? "", l.Status.ToString(CultureInfo.InvariantCulture), l.Route ?? "", l.Scheme ?? ""));
            }
            child.Observe(seconds);
        }

        private record struct Labels(string? Method, int Status, string? Route, string? Scheme);
    }

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
