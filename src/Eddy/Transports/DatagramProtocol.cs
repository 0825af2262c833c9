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

    public virtual void ConnectionLost(Exception? error)
    {
    }
}
