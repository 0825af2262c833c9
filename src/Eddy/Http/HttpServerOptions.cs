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

    public TimeSpan MinRequestBodyDataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Bytes of pipelined requests buffered while a handler is still running before reading pauses. Default 64 KiB.</summary>
    public int MaxPipelinedBytes { get; set; } = 64 * 1024;
}
