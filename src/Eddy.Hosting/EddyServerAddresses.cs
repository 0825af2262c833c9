using System.Net;

namespace Eddy.Hosting;

/// <summary>
/// The addresses the Eddy app listens on (port 0 resolved), from the host's services once the host has started
/// (<c>host.Services.GetRequiredService&lt;EddyServerAddresses&gt;()</c>, as ASP.NET Core's server addresses feature).
/// </summary>
public sealed class EddyServerAddresses
{
    private volatile IReadOnlyList<EndPoint> _endPoints = [];

    /// <summary>Each endpoint's bound address, in the order configured; empty until the host has started.</summary>
    public IReadOnlyList<EndPoint> EndPoints => _endPoints;

    internal void Set(IReadOnlyList<EndPoint> endPoints) => _endPoints = endPoints;
}
