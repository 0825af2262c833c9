using System.Net;

namespace Eddy.Transports;

/// <summary>
/// The callbacks of a datagram endpoint (asyncio's <c>DatagramProtocol</c>), on the loop thread:
/// <code>
/// start -> ConnectionMade [-> DatagramReceived* | ErrorReceived*] -> ConnectionLost -> end
/// </code>
/// </summary>
public abstract class DatagramProtocol
{
    /// <summary>The endpoint is open; keep <paramref name="transport"/> to send with it. Receiving starts after this returns.</summary>
    public virtual void ConnectionMade(DatagramTransport transport)
    {
    }

    /// <summary>A datagram arrived from <paramref name="remote"/>. <paramref name="data"/> is valid only during the call.</summary>
    public virtual void DatagramReceived(ReadOnlySpan<byte> data, EndPoint remote)
    {
    }

    /// <summary>A send or receive failed (e.g. ECONNREFUSED from an ICMP port-unreachable); the endpoint stays open.</summary>
    public virtual void ErrorReceived(Exception error)
    {
    }

    /// <summary>
    /// The endpoint is closed: <paramref name="error"/> is null after <see cref="DatagramTransport.Close"/> or
    /// <see cref="DatagramTransport.Abort()"/>, else what made it fail (the exception <see cref="ConnectionMade"/> or <see cref="DatagramReceived"/> threw). Called
    /// exactly once, in a later callback; the socket is closed right after it returns.
    /// </summary>
    public virtual void ConnectionLost(Exception? error)
    {
    }
}
