using System.Globalization;
using System.Text.Json.Serialization;

namespace Eddy.Cli.Load.Http;

/// <summary>
/// Every figure of a run, as written by <c>--json</c> and printed by <see cref="HttpLoadCommand"/>.
/// Field names are part of the CLI contract (benchmark scripts read them); add fields, never rename.
/// </summary>
internal sealed class HttpLoadReport
{
    /// <summary>The error kinds of HTTP load, in the order reported.</summary>
    public static readonly LoadErrorKind[] Kinds = [LoadErrorKind.Connect, LoadErrorKind.Read, LoadErrorKind.Write, LoadErrorKind.Timeout];

    public required string Url { get; init; }

    /// <summary>The address connected to, after resolving the host.</summary>
    public required string Address { get; init; }

    public required string Method { get; init; }

    public required int Connections { get; init; }

    public required int Loops { get; init; }

    public required int Pipeline { get; init; }

    /// <summary>-d as given, or null.</summary>
    public required double? DurationSeconds { get; init; }

    /// <summary>-n as given, or null.</summary>
    public required long? RequestsLimit { get; init; }

    /// <summary>-R as given (requests/s over all connections), or null when running as fast as the server answers.</summary>
    public required double? Rate { get; init; }

    public required double TimeoutSeconds { get; init; }

    /// <summary>Wall time from the start to the last loop's end (deadline, last request, or interruption).</summary>
    public required double Seconds { get; init; }

    /// <summary>Responses received, whatever their status (wrk's "requests").</summary>
    public required long Requests { get; init; }

    /// <summary>Requests written: responses + errors + those abandoned in flight at the end.</summary>
    public required long RequestsSent { get; init; }

    public required double RequestsPerSecond { get; init; }

    /// <summary>Bytes read from the server, heads and bodies.</summary>
    public required long BytesRead { get; init; }

    public required double BytesPerSecond { get; init; }

    /// <summary>Responses by status code, e.g. {"200": 1000, "404": 3}.</summary>
    public required Dictionary<string, long> StatusCounts { get; init; }

    /// <summary>Responses whose status is not 2xx.</summary>
    public required long Non2xx { get; init; }

    /// <summary>Requests that ended in an error (plus failed connect attempts).</summary>
    public required long Errors { get; init; }

    /// <summary>Errors per kind: connect, read, write, timeout. Every kind is present.</summary>
    public required Dictionary<string, long> ErrorsByKind { get; init; }

    /// <summary>Errors per kind and cause, e.g. {"read": {"closed before the response": 3}}. Only kinds that occurred.</summary>
    public required Dictionary<string, Dictionary<string, long>> ErrorDetails { get; init; }

    /// <summary>Connections the server closed after a response (Connection: close); each was reopened.</summary>
    public required long ClosedByServer { get; init; }

    /// <summary>From each request's intended send time (with -R: its slot in the schedule) to the last byte of its response.</summary>
    public required LatencySummary LatencyUs { get; init; }

    public required List<PercentileValue> Percentiles { get; init; }

    /// <summary>The full percentile distribution of <see cref="LatencyUs"/>.</summary>
    public required List<DistributionPoint> Distribution { get; init; }

    /// <summary>With -R: latency from the actual write instead, uncorrected for coordinated omission (what wrk would report). Null otherwise.</summary>
    public required LatencySummary? UncorrectedLatencyUs { get; init; }

    public required List<DistributionPoint>? UncorrectedDistribution { get; init; }

    /// <summary>True when a signal stopped the run early: the figures cover the time until then.</summary>
    public required bool Interrupted { get; init; }

    /// <summary><c>http</c> or <c>https</c>.</summary>
    public required string Scheme { get; init; }

    /// <summary>True with --new-connection-per-request: every request had a connection (and a TLS handshake) of its own.</summary>
    public required bool NewConnectionPerRequest { get; init; }

    /// <summary>Connections made during the run (over TLS: handshakes that succeeded), the first ones included.</summary>
    public required long ConnectionsOpened { get; init; }

    /// <summary>Connections made per second of the run (over TLS: handshakes per second).</summary>
    public required double ConnectionsPerSecond { get; init; }

    /// <summary>How long each TCP connect took, until the socket was connected.</summary>
    public required LatencySummary ConnectUs { get; init; }

    /// <summary>Over TLS: how long each handshake took, from the TCP connect to the first byte the protocol may send. Null over plain HTTP.</summary>
    public required LatencySummary? TlsHandshakeUs { get; init; }

    /// <summary>Over TLS: the version agreed, e.g. "TLSv1.3"; null over plain HTTP (or when no handshake succeeded).</summary>
    public required string? TlsVersion { get; init; }

    /// <summary>Over TLS: the cipher suite agreed, e.g. "TLS_AES_256_GCM_SHA384"; null otherwise.</summary>
    public required string? TlsCipherSuite { get; init; }

    public static HttpLoadReport Create(HttpLoadSettings settings, HttpLoadResult result)
    {
        var byKind = new Dictionary<string, long>();
        var details = new Dictionary<string, Dictionary<string, long>>();
        long errors = 0;
        foreach (LoadErrorKind kind in Kinds)
        {
            string name = TcpLoadReport.KindName(kind);
            byKind[name] = result.ErrorsByKind[(int)kind];
            errors += result.ErrorsByKind[(int)kind];
            if (result.ErrorDetails[(int)kind].Count > 0)
            {
                details[name] = new Dictionary<string, long>(result.ErrorDetails[(int)kind]);
            }
        }
        double seconds = result.Seconds;
        return new HttpLoadReport
        {
            Url = settings.Url.ToString(),
            Address = settings.Target.ToString(),
            Method = settings.Method,
            Connections = settings.Connections,
            Loops = settings.Loops,
            Pipeline = settings.Pipeline,
            DurationSeconds = settings.Duration?.TotalSeconds,
            RequestsLimit = settings.Requests,
            Rate = settings.Rate,
            TimeoutSeconds = settings.Timeout.TotalSeconds,
            Seconds = seconds,
            Requests = result.Responses,
            RequestsSent = result.RequestsSent,
            RequestsPerSecond = seconds > 0 ? result.Responses / seconds : 0,
            BytesRead = result.BytesRead,
            BytesPerSecond = seconds > 0 ? result.BytesRead / seconds : 0,
            StatusCounts = result.StatusCounts.ToDictionary(s => s.Key.ToString(CultureInfo.InvariantCulture), s => s.Value),
            Non2xx = result.StatusCounts.Where(s => s.Key is < 200 or > 299).Sum(s => s.Value),
            Errors = errors,
            ErrorsByKind = byKind,
            ErrorDetails = details,
            ClosedByServer = result.ClosedByServer,
            LatencyUs = LatencySummary.From(result.LatencyUs),
            Percentiles = LatencyPercentiles.Ladder(result.LatencyUs),
            Distribution = LatencyPercentiles.Distribution(result.LatencyUs),
            UncorrectedLatencyUs = result.UncorrectedLatencyUs is { } u ? LatencySummary.From(u) : null,
            UncorrectedDistribution = result.UncorrectedLatencyUs is { } d ? LatencyPercentiles.Distribution(d) : null,
            Interrupted = result.IsInterrupted,
            Scheme = settings.IsTls ? "https" : "http",
            NewConnectionPerRequest = settings.NewConnectionPerRequest,
            ConnectionsOpened = result.ConnectionsOpened,
            ConnectionsPerSecond = seconds > 0 ? result.ConnectionsOpened / seconds : 0,
            ConnectUs = LatencySummary.From(result.ConnectUs),
            TlsHandshakeUs = result.TlsHandshakeUs is { } h ? LatencySummary.From(h) : null,
            TlsVersion = result.TlsSession is { } v ? CommandLine.TlsVersionName(v.Version) : null,
            TlsCipherSuite = result.TlsSession is { } c ? c.CipherSuite.ToString() : null,
        };
    }
}

/// <summary>Source-generated serialization: the CLI is trimmed and AOT-compiled, so no reflection.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(HttpLoadReport))]
internal sealed partial class HttpLoadJsonContext : JsonSerializerContext;
