using Eddy.Transports;

namespace Eddy.Http.Internal;

/// <summary>What the per-loop <see cref="HttpHeartbeat"/> tells the time to: HTTP connections, and the protocols they upgraded to.</summary>
internal interface IHeartbeatClient
{
    /// <summary>Called once a second on the loop thread with the loop's time (ticks).</summary>
    void OnHeartbeat(long now);
}

/// <summary>
/// The protocol an HTTP connection hands its transport to after a <c>101 Switching Protocols</c> (the
/// WebSocket protocol). The handler that accepted the upgrade goes on running on the HTTP connection's
/// books: when it ends, <see cref="HandlerCompleted"/> says so, with its exception if it failed.
/// </summary>
internal abstract class UpgradedProtocol : Protocol
{
    /// <summary>The handler that upgraded the connection has ended (with <paramref name="error"/> if it threw). Loop thread.</summary>
    internal abstract void HandlerCompleted(Exception? error);
}

/// <summary>What the connection under an <see cref="HttpContext"/> offers a layer that upgrades it (RFC 9110 §7.8).</summary>
internal interface IConnectionUpgrader
{
    /// <summary>The loop's heartbeat, for the upgraded protocol's own timeouts.</summary>
    HttpHeartbeat Heartbeat { get; }

    /// <summary>
    /// Sends the response as set (a 101 with its fields, no body) and everything before it, then gives the
    /// transport to <paramref name="protocol"/>: its <see cref="Protocol.ConnectionMade"/> comes now, then the
    /// bytes that arrived after the request's head, then whatever arrives. Only from a running handler whose
    /// response has not started, for a request without a body.
    /// </summary>
    void Upgrade(UpgradedProtocol protocol);
}
