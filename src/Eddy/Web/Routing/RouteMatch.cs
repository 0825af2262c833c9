using System.Diagnostics.CodeAnalysis;

namespace Eddy.Web.Routing;

/// <summary>
/// The result of matching a request against a <see cref="Router{TEndpoint}"/>: found (the route, its endpoint
/// and the route values), not found (404) or method not allowed (405, with <see cref="AllowedMethods"/> for
/// the Allow header). A struct: a match allocates nothing.
/// </summary>
public readonly struct RouteMatch<TEndpoint>
{
    private RouteMatch(RouteMatchStatus status, Route<TEndpoint>? route, RouteValues values, string? allowedMethods)
    {
        Status = status;
        Route = route;
        Values = values;
        AllowedMethods = allowedMethods;
    }

    /// <summary>Found, or why not: 404 (no route for the path) or 405 (routes for the path, none for the method).</summary>
    public RouteMatchStatus Status { get; }

    /// <summary>True when a route matched.</summary>
    [MemberNotNullWhen(true, nameof(Route))]
    public bool IsFound => Status == RouteMatchStatus.Found;

    /// <summary>200, 404 or 405: the status a server answers with when it has nothing better to say.</summary>
    public int StatusCode => Status switch
    {
        RouteMatchStatus.Found => 200,
        RouteMatchStatus.MethodNotAllowed => 405,
        _ => 404,
    };

    /// <summary>The matched route; null unless <see cref="IsFound"/>.</summary>
    public Route<TEndpoint>? Route { get; }

    /// <summary>The matched route's endpoint; default unless <see cref="IsFound"/>.</summary>
    public TEndpoint? Endpoint => Route is { } route ? route.Endpoint : default;

    /// <summary>The parameter values, as slices of the matched path; empty unless <see cref="IsFound"/>.</summary>
    public RouteValues Values { get; }

    /// <summary>
    /// For <see cref="RouteMatchStatus.MethodNotAllowed"/>: the methods some route allows for this path, sorted and
    /// comma-separated, ready for the Allow header ("GET, HEAD, POST"). HEAD is listed wherever GET is, since
    /// HEAD falls back to GET. Null otherwise.
    /// </summary>
    public string? AllowedMethods { get; }

    internal static RouteMatch<TEndpoint> Found(Route<TEndpoint> route, RouteValues values) =>
        new(RouteMatchStatus.Found, route, values, null);

    internal static RouteMatch<TEndpoint> NotAllowed(string allowedMethods) =>
        new(RouteMatchStatus.MethodNotAllowed, null, default, allowedMethods);

    /// <summary>"GET /users/{id} (id=42)", or the status.</summary>
    public override string ToString() => Status switch
    {
        RouteMatchStatus.Found => $"Found {Route}",
        RouteMatchStatus.MethodNotAllowed => $"MethodNotAllowed (Allow: {AllowedMethods})",
        _ => "NotFound",
    };
}
