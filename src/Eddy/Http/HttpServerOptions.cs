using System.Diagnostics.Metrics;
using Eddy.Http.Parsing;

namespace Eddy.Http;

/// <summary>Limits and timeouts of Eddy's HTTP server; the defaults follow Kestrel's.</summary>
public sealed class HttpServerOptions
{
    /// <summary>Request-line, header and chunk limits (8 KiB request line, 32 KiB of headers, 100 headers).</summary>
    public HttpParserLimits ParserLimits { get; set; } = HttpParserLimits.Default;

    /// <summary>
    /// The largest request body accepted, or null for no limit. A Content-Length over it is answered 413 when the
    /// handler first reads the body (before any <c>100 Continue</c>); a chunked body, at the chunk that takes it
    /// over. A handler can raise or lift it for its own request before reading (<see cref="HttpRequest.MaxBodySize"/>).
    /// Default 30,000,000 bytes, as Kestrel.
    /// </summary>
    public long? MaxRequestBodySize
    {
        get;
        set => field = value is < 0 ? throw new ArgumentOutOfRangeException(nameof(value), value, "A body limit is not negative.") : value;
    } = 30_000_000;

    /// <summary>How long a client may take to send a request head, from its first byte (slowloris). Default 30 s.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an idle keep-alive connection stays open waiting for the next request. Default 120 s.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// The slowest a request body may arrive, in bytes per second, after <see cref="MinRequestBodyDataRateGracePeriod"/>;
    /// below it the connection is closed with 408. Default 240 bytes/s with a 5 s grace period, as Kestrel.
    /// </summary>
    public double MinRequestBodyDataRate { get; set; } = 240;

    /// <summary>How long a request body may arrive below <see cref="MinRequestBodyDataRate"/> before it counts. Default 5 s.</summary>
    public TimeSpan MinRequestBodyDataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Slow read: the slowest a client may take its response, in bytes per second, measured over windows of
    /// <see cref="MinResponseDataRateGracePeriod"/> while output waits in the connection's write buffer; below it
    /// the connection is aborted. 0 disables the check. Default 240 bytes/s with a 5 s grace period, as Kestrel.
    /// (While the buffer is above its high-water mark, 64 KiB, the connection handles no further request and
    /// streaming handlers wait in <see cref="HttpResponse.WriteAsync"/>, so a client that does not read holds at
    /// most that much plus one response.)
    /// </summary>
    public double MinResponseDataRate { get; set; } = 240;

    /// <summary>The window over which <see cref="MinResponseDataRate"/> is measured. Default 5 s.</summary>
    public TimeSpan MinResponseDataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most connections served at once, over all loops of the server; past it a new connection is accepted
    /// and closed at once (see <see cref="Transports.ConnectionLimit"/>). Null (the default) for no limit, as Kestrel.
    /// </summary>
    public long? MaxConnections { get; set; }

    /// <summary>
    /// How many received bytes a connection holds while its handler runs — body bytes the handler has not read
    /// yet, and pipelined requests behind it — before it stops reading from the socket (TCP then slows the
    /// client). Memory per connection stays near this whatever the size of an upload. Default 64 KiB.
    /// </summary>
    public int MaxRequestBufferSize { get; set; } = 64 * 1024;

    /// <summary>
    /// A handler that ends without reading its whole request body: the rest is read and dropped, so the
    /// connection can carry the next request, if no more than this many bytes of it are still to come (a
    /// Content-Length body) or until this many were dropped (chunked); beyond it the connection closes
    /// after the response. Default 1 MiB.
    /// </summary>
    public long MaxRequestBodyDrainSize { get; set; } = 1024 * 1024;

    /// <summary>How long dropping the unread rest of a body may take before the connection closes. Default 5 s, as Kestrel.</summary>
    public TimeSpan RequestBodyDrainTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Where the server's meter "Eddy.Http" comes from (the host's <see cref="IMeterFactory"/>, so its measurements
    /// are scoped to the host); null (the default) uses one static meter shared by every server of the process.
    /// </summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>
    /// The application's services, which handlers reach as <see cref="HttpContext.Services"/> (the Generic Host's
    /// provider when the app runs under Eddy.Hosting). Null (the default): <see cref="HttpContext.Services"/> has none.
    /// </summary>
    public IServiceProvider? Services { get; set; }
}
