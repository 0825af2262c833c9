using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;

namespace Eddy.Transports.Internal;

/// <summary>
/// A server's connection instruments, in the meter "Eddy.Transports", named as Kestrel's
/// (<c>kestrel.active_connections</c>, <c>kestrel.connection.duration</c>, <c>kestrel.rejected_connections</c>)
/// with the prefix <c>eddy.</c>. There is no <c>eddy.queued_connections</c>: a connection is accepted straight
/// into its transport on the loop, so no queue exists between the kernel's backlog and the protocol.
/// Every measurement carries the listener's <c>network.transport</c> and <c>server.port</c> (or
/// <c>server.address</c> for a Unix socket).
/// </summary>
internal static class TransportMetrics
{
    public const string MeterName = "Eddy.Transports";

    public static readonly Meter Meter = new(MeterName);

    public static readonly UpDownCounter<long> ActiveConnections = Meter.CreateUpDownCounter<long>(
        "eddy.active_connections", unit: "{connection}", description: "Number of connections that are currently active on the server.");

    public static readonly Histogram<double> ConnectionDuration = Meter.CreateHistogram<double>(
        "eddy.connection.duration", unit: "s", description: "The duration of connections on the server.");

    public static readonly Counter<long> RejectedConnections = Meter.CreateCounter<long>(
        "eddy.rejected_connections", unit: "{connection}", description: "Number of connections rejected by the server because the connection limit was reached.");

    /// <summary>The tags of a listener's measurements, made once per listener (a boxed port is then never made again).</summary>
    public static KeyValuePair<string, object?>[] TagsFor(EndPoint? endPoint) => endPoint switch
    {
        IPEndPoint ip =>
        [
            new("network.transport", "tcp"),
            new("network.type", ip.AddressFamily == AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4"),
            new("server.port", ip.Port),
        ],
        UnixDomainSocketEndPoint unix => [new("network.transport", "unix"), new("server.address", unix.ToString())],
        _ => [new("network.transport", "unknown")],
    };

    /// <summary>A connection was accepted: count it while someone listens, and remember what to undo when it closes.</summary>
    public static void OnAccepted(SocketTransport transport, KeyValuePair<string, object?>[] tags)
    {
        if (ActiveConnections.Enabled)
        {
            ActiveConnections.Add(1, tags);
            transport.CountedActive = true; // the decrement must match, even if the listener goes away meanwhile
        }
        if (ConnectionDuration.Enabled)
        {
            transport.AcceptedAt = Stopwatch.GetTimestamp();
        }
        transport.MetricTags = tags;
    }

    public static void OnClosed(SocketTransport transport)
    {
        if (transport.MetricTags is not { } tags)
        {
            return;
        }
        if (transport.CountedActive)
        {
            ActiveConnections.Add(-1, tags);
        }
        if (transport.AcceptedAt != 0 && ConnectionDuration.Enabled)
        {
            ConnectionDuration.Record(Stopwatch.GetElapsedTime(transport.AcceptedAt).TotalSeconds, tags);
        }
    }
}
