using System.Diagnostics;
using System.Diagnostics.Metrics;
using Eddy.Http.Parsing;

namespace Eddy.Http.Internal;

/// <summary>
/// The HTTP server's instruments, in the meter "Eddy.Http", with the OpenTelemetry semantic-convention names and
/// tags that ASP.NET Core uses (<c>http.server.request.duration</c>, <c>http.server.active_requests</c>). Made
/// once per server from <see cref="HttpServerOptions.MeterFactory"/>, or shared (a static meter) without one.
/// Nothing is measured unless an instrument is <see cref="Instrument.Enabled"/>, and a measurement allocates
/// nothing: the tags are a <see cref="TagList"/> (a struct) of cached strings and cached boxed status codes.
/// <para>
/// <c>http.server.active_requests</c> is an <em>observable</em> up-down counter (ASP.NET Core's is a plain one): the
/// loop thread that starts or ends a request adds ±1 to a count of its own (a plain store, no lock, no listener
/// call), and a listener reads the sum when it collects. An up-down counter pushed per request cost two listener
/// calls per request — with prometheus-net's adapter ~460 ns, half of what metrics cost a request (BENCHMARKS.md,
/// "Metrics on and off").
/// </para>
/// </summary>
internal sealed class HttpMetrics
{
    public const string MeterName = "Eddy.Http";

    /// <summary>The request-duration histogram's name and its tags' (the conventions'); a listener that reads the
    /// tags by name (<c>eddy serve --metrics</c>) uses these.</summary>
    public const string RequestDurationName = "http.server.request.duration";
    public const string MethodTagName = "http.request.method";
    public const string SchemeTagName = "url.scheme";
    public const string StatusCodeTagName = "http.response.status_code";
    public const string RouteTagName = "http.route";

    // The semantic conventions' advice for http.server.request.duration, as ASP.NET Core gives it.
    private static readonly double[] s_durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    /// <summary>The instruments of servers given no meter factory. (After the arrays: static fields start in textual order.)</summary>
    public static readonly HttpMetrics Shared = new(new Meter(MeterName));

    // Boxed once: a status code as a tag value would otherwise be boxed per request (ASP.NET Core caches them too).
    private static readonly object[] s_statusCodes = [.. Enumerable.Range(0, 600).Select(code => (object)code)];

    // One count per (method, scheme) pair: the index is (int)HttpVerb * 2 + (https ? 1 : 0).
    private const int Slots = (int)HttpVerb.Connect * 2 + 2;
    private static readonly string[] s_methods = ["_OTHER", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT"];

    // Each loop thread's counts, written only by it; the collector sums every thread's (trackAllValues). Behind the
    // counts, a flag per slot: used at least once, so the series is reported (at 0 when idle) as an up-down counter's
    // series exists from its first measurement.
    private readonly ThreadLocal<long[]> _activeCounts = new(() => new long[Slots * 2], trackAllValues: true);

    private HttpMetrics(Meter meter)
    {
        RequestDuration = meter.CreateHistogram<double>(
            RequestDurationName, unit: "s", description: "Duration of HTTP server requests.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        ActiveRequests = meter.CreateObservableUpDownCounter(
            "http.server.active_requests", ObserveActive, unit: "{request}", description: "Number of active HTTP server requests.");
    }

    public Histogram<double> RequestDuration { get; }

    public ObservableUpDownCounter<long> ActiveRequests { get; }

    public static HttpMetrics For(IMeterFactory? factory) =>
        factory is null ? Shared : new HttpMetrics(factory.Create(new MeterOptions(MeterName)));

    /// <summary>The method as the conventions want it: the known ones as they are, any other as <c>_OTHER</c> (bounded cardinality).</summary>
    public static string MethodTag(HttpRequest request) => request.Verb == HttpVerb.Extension ? "_OTHER" : request.Method;

    public static object StatusTag(int statusCode) => (uint)statusCode < (uint)s_statusCodes.Length ? s_statusCodes[statusCode] : statusCode;

    /// <summary>Counts a request in (+1) or out (-1), on the loop thread that runs it.</summary>
    public void AddActive(long delta, HttpVerb verb, bool https)
    {
        long[] counts = _activeCounts.Value!;
        int slot = (int)verb * 2 + (https ? 1 : 0);
        Volatile.Write(ref counts[slot], counts[slot] + delta);
        if (counts[Slots + slot] == 0)
        {
            Volatile.Write(ref counts[Slots + slot], 1);
        }
    }

    private IEnumerable<Measurement<long>> ObserveActive()
    {
        var sums = new long[Slots];
        var used = new bool[Slots];
        foreach (long[] counts in _activeCounts.Values)
        {
            for (int slot = 0; slot < Slots; slot++)
            {
                sums[slot] += Volatile.Read(ref counts[slot]);
                used[slot] |= Volatile.Read(ref counts[Slots + slot]) != 0;
            }
        }
        var measurements = new List<Measurement<long>>();
        for (int slot = 0; slot < Slots; slot++)
        {
            if (used[slot])
            {
                measurements.Add(new Measurement<long>(sums[slot],
                    new KeyValuePair<string, object?>(MethodTagName, s_methods[slot / 2]),
                    new KeyValuePair<string, object?>(SchemeTagName, slot % 2 == 1 ? "https" : "http")));
            }
        }
        return measurements;
    }

    public void RecordDuration(long startedAt, string method, string scheme, int statusCode, string? route)
    {
        var tags = new TagList
        {
            { MethodTagName, method },
            { SchemeTagName, scheme },
            { StatusCodeTagName, StatusTag(statusCode) },
        };
        if (route is not null)
        {
            tags.Add(RouteTagName, route);
        }
        RequestDuration.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, tags);
    }
}
