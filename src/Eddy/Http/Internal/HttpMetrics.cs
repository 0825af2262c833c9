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
/// </summary>
internal sealed class HttpMetrics
{
    public const string MeterName = "Eddy.Http";

    // The semantic conventions' advice for http.server.request.duration, as ASP.NET Core gives it.
    private static readonly double[] s_durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    /// <summary>The instruments of servers given no meter factory. (After the arrays: static fields start in textual order.)</summary>
    public static readonly HttpMetrics Shared = new(new Meter(MeterName));

    // Boxed once: a status code as a tag value would otherwise be boxed per request (ASP.NET Core caches them too).
    private static readonly object[] s_statusCodes = [.. Enumerable.Range(0, 600).Select(code => (object)code)];

    private HttpMetrics(Meter meter)
    {
        RequestDuration = meter.CreateHistogram<double>(
            "http.server.request.duration", unit: "s", description: "Duration of HTTP server requests.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        ActiveRequests = meter.CreateUpDownCounter<long>(
            "http.server.active_requests", unit: "{request}", description: "Number of active HTTP server requests.");
    }

    public Histogram<double> RequestDuration { get; }

    public UpDownCounter<long> ActiveRequests { get; }

    public static HttpMetrics For(IMeterFactory? factory) =>
        factory is null ? Shared : new HttpMetrics(factory.Create(new MeterOptions(MeterName)));

    /// <summary>The method as the conventions want it: the known ones as they are, any other as <c>_OTHER</c> (bounded cardinality).</summary>
    public static string MethodTag(HttpRequest request) => request.Verb == HttpVerb.Extension ? "_OTHER" : request.Method;

    public static object StatusTag(int statusCode) => (uint)statusCode < (uint)s_statusCodes.Length ? s_statusCodes[statusCode] : statusCode;

    public void AddActive(long delta, string method, string scheme) =>
        ActiveRequests.Add(delta, new KeyValuePair<string, object?>("http.request.method", method), new KeyValuePair<string, object?>("url.scheme", scheme));

    public void RecordDuration(long startedAt, string method, string scheme, int statusCode, string? route)
    {
        var tags = new TagList
        {
            { "http.request.method", method },
            { "url.scheme", scheme },
            { "http.response.status_code", StatusTag(statusCode) },
        };
        if (route is not null)
        {
            tags.Add("http.route", route);
        }
        RequestDuration.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, tags);
    }
}
