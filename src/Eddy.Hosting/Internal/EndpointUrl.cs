using System.Net;

namespace Eddy.Hosting.Internal;

/// <summary>An endpoint's <see cref="EddyEndpointOptions.Url"/>, parsed: a bad one is an error that names it, at start.</summary>
internal readonly record struct EndpointUrl(bool IsHttps, IPEndPoint EndPoint)
{
    public static EndpointUrl Parse(string url)
    {
        string scheme;
        string rest;
        if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            (scheme, rest) = ("http", url["http://".Length..]);
        }
        else if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            (scheme, rest) = ("https", url["https://".Length..]);
        }
        else
        {
            throw Invalid(url, "it must start with http:// or https://");
        }
        rest = rest.TrimEnd('/');
        if (rest.Contains('/'))
        {
            throw Invalid(url, "an endpoint has no path");
        }
        int colon = rest.LastIndexOf(':');
        if (colon < 0 || rest.EndsWith(']'))
        {
            throw Invalid(url, "it needs a port, e.g. http://127.0.0.1:8080");
        }
        string host = rest[..colon];
        if (!ushort.TryParse(rest.AsSpan(colon + 1), out ushort port))
        {
            throw Invalid(url, $"'{rest[(colon + 1)..]}' is not a port (0-65535)");
        }
        IPAddress address = host switch
        {
            "*" or "+" => IPAddress.Any,
            _ when host.Equals("localhost", StringComparison.OrdinalIgnoreCase) => IPAddress.Loopback,
            _ when host.StartsWith('[') && host.EndsWith(']') && IPAddress.TryParse(host[1..^1], out IPAddress? v6) => v6,
            _ when IPAddress.TryParse(host, out IPAddress? v4) && !host.Contains(':') => v4,
            _ => throw Invalid(url, $"'{host}' is not an IP address, localhost or *"),
        };
        return new EndpointUrl(scheme == "https", new IPEndPoint(address, port));
    }

    private static FormatException Invalid(string url, string why) => new($"Eddy endpoint URL '{url}' is not valid: {why}.");
}
