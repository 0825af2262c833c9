namespace Eddy.Web.Routing;

/// <summary>The outcome of <see cref="Router{TEndpoint}.Match(ReadOnlySpan{char}, ReadOnlyMemory{char})"/>.</summary>
public enum RouteMatchStatus
{
    /// <summary>No route matches the path under any method: 404.</summary>
    NotFound,

    /// <summary>A route matches the path and the method.</summary>
    Found,

    /// <summary>Routes match the path, but none for this method: 405, with an Allow header (RFC 9110 §15.5.6).</summary>
    MethodNotAllowed,
}
