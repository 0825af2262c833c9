using System.Net;

namespace Eddy.Hosting;

/// <summary>
/// A <see cref="ServerHost"/> could not listen on one of its endpoints (address in use, permission denied, …):
/// nothing listens then, and <see cref="Exception.InnerException"/> holds the cause.
/// </summary>
public sealed class HostListenException : IOException
{
    /// <summary>Creates the exception for <paramref name="endPoint"/> with its cause.</summary>
    public HostListenException(EndPoint endPoint, Exception innerException)
        : base($"Cannot listen on {endPoint}: {innerException.Message}", innerException) => EndPoint = endPoint;

    /// <summary>The endpoint as given (port 0 not yet resolved).</summary>
    public EndPoint EndPoint { get; }
}
