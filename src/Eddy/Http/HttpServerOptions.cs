namespace Eddy.Http;

/// <summary>Limits and timeouts of Eddy's HTTP server; the defaults follow Kestrel's.</summary>
public sealed class HttpServerOptions
{
    /// <summary>Request-line, header and chunk limits (8 KiB request line, 32 KiB of headers, 100 headers).</summary>
    public HttpParserLimits ParserLimits { get; set; } = HttpParserLimits.Default;

    /// <summary>The largest request body accepted (413 beyond it). Default 30,000,000 bytes, as Kestrel.</summary>
    public long MaxRequestBodySize { get; set; } = 30_000_000;

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

    /// <summary>Bytes of pipelined requests buffered while a handler is still running before reading pauses. Default 64 KiB.</summary>
    public int MaxPipelinedBytes { get; set; } = 64 * 1024;
}
