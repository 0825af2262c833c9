using System.Diagnostics.Metrics;
using System.Security.Authentication;

namespace Eddy.Tls.Internal;

/// <summary>
/// The TLS instrument, in the meter "Eddy.Tls": server handshakes, as Kestrel's <c>kestrel.tls_handshake.duration</c>,
/// tagged with the negotiated <c>tls.protocol.version</c>, or with <c>error.type</c> (the exception's type) when
/// the handshake failed or timed out.
/// </summary>
internal static class TlsMetrics
{
    public const string MeterName = "Eddy.Tls";

    public static readonly Meter Meter = new(MeterName);

    public static readonly Histogram<double> HandshakeDuration = Meter.CreateHistogram<double>(
        "eddy.tls.handshake.duration", unit: "s", description: "The duration of TLS handshakes on the server.");

    public static void Record(TimeSpan duration, SslProtocols version, Exception? error)
    {
        KeyValuePair<string, object?> tag = error is not null
            ? new("error.type", error.GetType().FullName)
            : new("tls.protocol.version", Version(version));
        HandshakeDuration.Record(duration.TotalSeconds, tag);
    }

    // The semantic-convention spelling (tls.protocol.version: "1.2", "1.3").
#pragma warning disable SYSLIB0039 // naming the legacy versions is not using them
    private static string Version(SslProtocols version) => version switch
    {
        SslProtocols.Tls13 => "1.3",
        SslProtocols.Tls12 => "1.2",
        SslProtocols.Tls11 => "1.1",
        SslProtocols.Tls => "1.0",
        _ => version.ToString(),
    };
#pragma warning restore SYSLIB0039
}
