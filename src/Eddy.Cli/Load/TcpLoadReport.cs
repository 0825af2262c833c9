using System.Text.Json.Serialization;

namespace Eddy.Cli.Load;

/// <summary>
/// Every figure of a run, as written by <c>--json</c> and printed by <see cref="TcpLoadCommand"/>.
/// Field names are part of the CLI contract (benchmark scripts read them); add fields, never rename.
/// </summary>
internal sealed class TcpLoadReport
{
    /// <summary>"one-shot" or "closed-loop".</summary>
    public required string Mode { get; init; }

    /// <summary>HOST:PORT as given on the command line.</summary>
    public required string Target { get; init; }

    /// <summary>The address connected to, after resolving the host.</summary>
    public required string Address { get; init; }

    public required int Connections { get; init; }

    public required int Loops { get; init; }

    public required int MessageSize { get; init; }

    /// <summary>One-shot mode: the rounds asked for. Null in closed-loop mode.</summary>
    public required int? Rounds { get; init; }

    /// <summary>Closed-loop mode: the duration asked for. Null in one-shot mode.</summary>
    public required double? DurationSeconds { get; init; }

    /// <summary>Wall time: from the moment every loop was ready to the end of the last round, or to the deadline.</summary>
    public required double Seconds { get; init; }

    /// <summary>Completed echoes (closed loop) or clients that got their full reply (one-shot).</summary>
    public required long Messages { get; init; }

    public required double MessagesPerSecond { get; init; }

    /// <summary>Payload bytes echoed per second: messages × message size ÷ seconds (each byte counted once, not once per direction).</summary>
    public required double BytesPerSecond { get; init; }

    /// <summary>The same as <see cref="Messages"/>: successful clients (one-shot) or echoes (closed loop).</summary>
    public required long Successes { get; init; }

    /// <summary>Total failures, all kinds.</summary>
    public required long Errors { get; init; }

    /// <summary>Failures per kind: connect, write, read, mismatch, timeout. Every kind is present.</summary>
    public required Dictionary<string, long> ErrorsByKind { get; init; }

    /// <summary>Failures per kind and cause, e.g. {"connect": {"ECONNREFUSED": 20}}. Only kinds that occurred.</summary>
    public required Dictionary<string, Dictionary<string, long>> ErrorDetails { get; init; }

    public required LatencySummary LatencyUs { get; init; }

    /// <summary>p50, p75, p90, p95, p99, p99.9, p99.99, p99.999 and p100 (the max).</summary>
    public required List<PercentileValue> Percentiles { get; init; }

    /// <summary>The full percentile distribution, as HdrHistogram's percentile output lists it.</summary>
    public required List<DistributionPoint> Distribution { get; init; }

    /// <summary>True when a signal stopped the run early: the figures cover the time until then.</summary>
    public required bool Interrupted { get; init; }

    /// <summary>True with --tls: the echo ran over TLS.</summary>
    public required bool Tls { get; init; }

    /// <summary>With --tls: how long each handshake took, from the TCP connect to the connection being usable; null without.</summary>
    public required LatencySummary? TlsHandshakeUs { get; init; }

    /// <summary>With --tls: the version agreed, e.g. "TLSv1.3" (null without, or when no handshake succeeded).</summary>
    public required string? TlsVersion { get; init; }

    /// <summary>With --tls: the cipher suite agreed, e.g. "TLS_AES_256_GCM_SHA384"; null otherwise.</summary>
    public required string? TlsCipherSuite { get; init; }

    public static string KindName(LoadErrorKind kind) => kind switch
    {
        LoadErrorKind.Connect => "connect",
        LoadErrorKind.Write => "write",
        LoadErrorKind.Read => "read",
        LoadErrorKind.Mismatch => "mismatch",
        _ => "timeout",
    };

    public static TcpLoadReport Create(TcpLoadSettings settings, string target, TcpLoadResult result)
    {
        var byKind = new Dictionary<string, long>();
        var details = new Dictionary<string, Dictionary<string, long>>();
        foreach (LoadErrorKind kind in Enum.GetValues<LoadErrorKind>())
        {
            byKind[KindName(kind)] = result.ErrorsByKind[(int)kind];
            if (result.ErrorDetails[(int)kind].Count > 0)
            {
                details[KindName(kind)] = new Dictionary<string, long>(result.ErrorDetails[(int)kind]);
            }
        }
        double seconds = result.Seconds;
        return new TcpLoadReport
        {
            Mode = settings.IsClosedLoop ? "closed-loop" : "one-shot",
            Target = target,
            Address = settings.Target.ToString(),
            Connections = settings.Connections,
            Loops = settings.Loops,
            MessageSize = settings.MessageSize,
            Rounds = settings.IsClosedLoop ? null : settings.Rounds,
            DurationSeconds = settings.Duration?.TotalSeconds,
            Seconds = seconds,
            Messages = result.Messages,
            MessagesPerSecond = seconds > 0 ? result.Messages / seconds : 0,
            BytesPerSecond = seconds > 0 ? (double)result.Messages * settings.MessageSize / seconds : 0,
            Successes = result.Messages,
            Errors = result.Errors,
            ErrorsByKind = byKind,
            ErrorDetails = details,
            LatencyUs = LatencySummary.From(result.LatencyUs),
            Percentiles = LatencyPercentiles.Ladder(result.LatencyUs),
            Distribution = LatencyPercentiles.Distribution(result.LatencyUs),
            Interrupted = result.IsInterrupted,
            Tls = settings.Tls is not null,
            TlsHandshakeUs = result.TlsHandshakeUs is { } h ? LatencySummary.From(h) : null,
            TlsVersion = result.TlsSession is { } v ? CommandLine.TlsVersionName(v.Version) : null,
            TlsCipherSuite = result.TlsSession is { } c ? c.CipherSuite.ToString() : null,
        };
    }
}

/// <summary>Source-generated serialization: the CLI is trimmed and AOT-compiled, so no reflection.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(TcpLoadReport))]
internal sealed partial class TcpLoadJsonContext : JsonSerializerContext;
