using Eddy.Http;

namespace Eddy.Hosting;

/// <summary>
/// How the Generic Host runs an Eddy app (<see cref="EddyServiceCollectionExtensions.AddEddyWebApp"/>), bound from the
/// configuration section "Eddy" (appsettings.json, environment variables such as <c>Eddy__Endpoints__0__Url</c>,
/// command-line arguments) and from code (<c>.Configure(o =&gt; …)</c> on the options builder that
/// <c>AddEddyWebApp</c> returns). Every property has a working default.
/// <code>
/// "Eddy": {
///   "Endpoints": [ { "Url": "http://0.0.0.0:8080" },
///                  { "Url": "https://0.0.0.0:8443", "CertificatePath": "cert.pem", "KeyPath": "key.pem" } ],
///   "LoopCount": 0, "DrainTimeout": "00:00:30",
///   "Http": { "MaxRequestBodySize": 10485760, "KeepAliveTimeout": "00:02:00" }
/// }
/// </code>
/// </summary>
public sealed class EddyServerOptions
{
    /// <summary>Where to listen. None configured: <c>http://127.0.0.1:8080</c>.</summary>
    public List<EddyEndpointOptions> Endpoints { get; } = [];

    /// <summary>Event loops, one thread each; 0 (the default) means one per core.</summary>
    public int LoopCount { get; set; }

    /// <summary>On host shutdown, how long requests in flight get to finish before their connections are cut. Default 30 s.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most connections at once over every endpoint (more are accepted and closed). Default: from the descriptor limit, see <see cref="ServerHostOptions.DescriptorReserve"/>.</summary>
    public long? MaxConnections { get; set; }

    /// <summary>Descriptors kept free for the runtime (<see cref="ServerHostOptions.DescriptorReserve"/>). Default 128.</summary>
    public long DescriptorReserve { get; set; } = ServerHostOptions.DefaultDescriptorReserve;

    /// <summary>
    /// The HTTP server's limits and timeouts, for every endpoint (section "Eddy:Http"). The parser's limits
    /// (<see cref="HttpServerOptions.ParserLimits"/>, an immutable object) are not bound from configuration: set them
    /// in code, <c>.Configure(o =&gt; o.Http.ParserLimits = new HttpParserLimits { … })</c>.
    /// </summary>
    public HttpServerOptions Http { get; } = new();
}

/// <summary>One endpoint of <see cref="EddyServerOptions.Endpoints"/>.</summary>
public sealed class EddyEndpointOptions
{
    /// <summary>
    /// <c>http://ADDRESS:PORT</c> or <c>https://ADDRESS:PORT</c>: ADDRESS an IPv4 or IPv6 literal (<c>[::1]</c>),
    /// <c>localhost</c> (IPv4 loopback) or <c>*</c> (every IPv4 address); PORT 0 picks a free one. No path.
    /// </summary>
    public string Url { get; set; } = "";

    /// <summary>For https: the PEM certificate (chain) file; reloaded when it changes on disk.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>For https: the PEM private key file.</summary>
    public string? KeyPath { get; set; }
}
