using System.Text.Json.Serialization;

namespace Eddy.Cli.Load;

/// <summary>
/// Every figure of a run, as written by <c>--json</c> and printed by <see cref="TcpLoadCommand"/>.
/// Field names are part of the CLI contract (benchmark scripts read them); add fields, never rename.
/// </summary>
internal sealed class TcpLoadReport : LoadFigures
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
        double seconds = result.Seconds;
        var report = new TcpLoadReport
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
            Tls = settings.Tls is not null,
            TlsHandshakeUs = result.TlsHandshakeUs is { } h ? LatencySummary.From(h) : null,
            TlsVersion = result.TlsSession is { } v ? CommandLine.TlsVersionName(v.Version) : null,
            TlsCipherSuite = result.TlsSession is { } c ? c.CipherSuite.ToString() : null,
        };
        report.SetFigures(result.ErrorsByKind, result.ErrorDetails, result.LatencyUs, result.IsInterrupted);
        return report;
    }
}

/// <summary>Source-generated serialization: the CLI is trimmed and AOT-compiled, so no reflection.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(TcpLoadReport))]
internal sealed partial class TcpLoadJsonContext : JsonSerializerContext;
