using System.Text.Json.Serialization;

namespace Eddy.Cli.Load.Ws;

/// <summary>
/// Every figure of an <c>eddy load ws</c> run, as written by <c>--json</c> and printed. Field names are part of
/// the CLI contract (bench/ws.sh reads them); add fields, never rename.
/// </summary>
internal sealed class WsLoadReport : LoadFigures
{
    /// <summary>"echo", or "idle" (connections held open, no messages).</summary>
    public required string Mode { get; init; }

    /// <summary>The URL as given.</summary>
    public required string Target { get; init; }

    public required int Connections { get; init; }

    /// <summary>Connections whose handshake succeeded (idle: still open at the end).</summary>
    public required int Connected { get; init; }

    public required int Loops { get; init; }

    public required int MessageSize { get; init; }

    /// <summary>"text" or "binary".</summary>
    public required string MessageType { get; init; }

    public required int Pipeline { get; init; }

    public required double DurationSeconds { get; init; }

    /// <summary>The message limit asked for (--messages), or null.</summary>
    public required long? MessageLimit { get; init; }

    /// <summary>From the moment every connection was open to the last echo (at most the deadline).</summary>
    public required double Seconds { get; init; }

    /// <summary>Echoes received whole and equal to what was sent, before the deadline.</summary>
    public required long Messages { get; init; }

    public required double MessagesPerSecond { get; init; }

    /// <summary>Payload bytes echoed per second: messages × size ÷ seconds (each byte counted once, not once per direction).</summary>
    public required double BytesPerSecond { get; init; }

    public static WsLoadReport Create(WsLoadSettings settings, WsLoadResult result)
    {
        double seconds = result.Seconds;
        var report = new WsLoadReport
        {
            Mode = settings.IsIdle ? "idle" : "echo",
            Target = settings.Target.ToString(),
            Connections = settings.Connections,
            Connected = result.Connected,
            Loops = settings.Loops,
            MessageSize = settings.MessageSize,
            MessageType = settings.IsText ? "text" : "binary",
            Pipeline = settings.Pipeline,
            DurationSeconds = settings.Duration.TotalSeconds,
            MessageLimit = settings.MessageLimit,
            Seconds = seconds,
            Messages = result.Messages,
            MessagesPerSecond = seconds > 0 ? result.Messages / seconds : 0,
            BytesPerSecond = seconds > 0 ? (double)result.Messages * settings.MessageSize / seconds : 0,
        };
        report.SetFigures(result.ErrorsByKind, result.ErrorDetails, result.LatencyUs, result.IsInterrupted);
        return report;
    }
}

/// <summary>Source-generated serialization: the CLI is trimmed and AOT-compiled, so no reflection.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(WsLoadReport))]
internal sealed partial class WsLoadJsonContext : JsonSerializerContext;
