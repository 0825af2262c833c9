using Eddy.Web.Routing.Internal;

namespace Eddy.Web.Routing;

/// <summary>
/// Maps (method, path) to an endpoint through route templates, as ASP.NET Core's endpoint routing does,
/// over a segment tree in the manner of httprouter. Two phases:
/// <code>
/// new Router -> Add* -> [Build] -> Match* (from any thread)
/// </code>
/// <see cref="Add"/> parses and checks each template at once and throws <see cref="ArgumentException"/> for
/// an invalid template or a route that conflicts with an earlier one. The tree is built by
/// <see cref="Build"/> or by the first <see cref="Match(ReadOnlySpan{char}, ReadOnlyMemory{char})"/>; after that
/// the router is frozen (no more routes) and matching is thread-safe and allocation-free.
/// <para>
/// <b>Templates.</b> Segments are literal text or one parameter: <c>{id}</c>, constrained <c>{id:int}</c>
/// (also <c>long</c>, <c>guid</c>, <c>bool</c>, <c>alpha</c>, <c>minlength(n)</c>, <c>maxlength(n)</c>,
/// <c>length(n)</c>, <c>length(min,max)</c>, <c>min(n)</c>, <c>max(n)</c>, <c>range(min,max)</c>; several
/// may be chained: <c>{id:int:min(1)}</c>), optional <c>{page?}</c> and catch-all <c>{*path}</c> (both last
/// segment only). A catch-all matches the rest of the path, slashes included, possibly empty. Literals
/// compare ASCII letters case-insensitively; methods are case-sensitive (RFC 9110 §9.1).
/// </para>
/// <para>
/// <b>Precedence</b>, decided segment by segment from the left, backtracking when a branch leads nowhere:
/// literal, then constrained parameter (in registration order), then unconstrained parameter, then catch-all.
/// Where the path ends, a route that ends there beats one whose optional parameter is omitted, which beats
/// an empty catch-all; and of two routes through the same parameter (same constraints), the one whose
/// parameter is not optional wins. Among the routes that end at the same place, the request's method
/// decides: that method's route, else for HEAD the GET route (RFC 9110 §9.3.2), else the any-method route;
/// remaining ties go to the route registered first. A route that matches the path but not the method does
/// not stop the search: a lower-precedence route for the method still wins (as in ASP.NET Core).
/// </para>
/// <para>
/// <b>Slashes.</b> The path's leading '/' is optional and one trailing '/' is ignored, so <c>/users/</c>
/// matches <c>/users</c> (no redirect; a server wanting one canonical URL can redirect itself). An empty
/// segment (<c>/users//42</c>) matches no literal or parameter. A catch-all value is the rest of the path
/// as sent, trailing slash included (<c>/files/a/</c> gives <c>a/</c>).
/// </para>
/// <para>
/// <b>Servers</b> call <see cref="MatchLiteralPath"/> with the raw path bytes first (one lookup for a route whose
/// template is all literal), then <see cref="MatchRoute"/> with the decoded path when it declines, then
/// <see cref="NotMatched"/> for 404/405.
/// </para>
/// </summary>
public sealed partial class Router<TEndpoint>
{
    /// <summary>The method that registers a route for every method (lower precedence than a route for the exact method).</summary>
    public const string AnyMethod = RouteMethods.Any;

    private readonly List<Route<TEndpoint>> _routes = [];

    /// <summary>Method tokens by index: the known ones, then extension methods as routes first use them.</summary>
    private readonly List<string> _methods = [.. RouteMethods.KnownNames];

    /// <summary>"METHOD shape" → the route that claimed it, to reject a second route matching exactly the same requests.</summary>
    private readonly Dictionary<string, Route<TEndpoint>> _claimed = new(StringComparer.Ordinal);

    private readonly Lock _lock = new();

    /// <summary>Null until built; then set once and never changed (published by the volatile write).</summary>
    private volatile RouteTree<TEndpoint>? _tree;

    /// <summary>An empty router: <see cref="Add"/> routes, then <see cref="Build"/> (or let the first match build it).</summary>
    public Router()
    {
        Routes = _routes.AsReadOnly();
    }

    /// <summary>Every route in registration order (a live view).</summary>
    public IReadOnlyList<Route<TEndpoint>> Routes { get; }

    /// <summary>True once the tree is built: no more routes can be added.</summary>
    public bool IsBuilt => _tree is not null;

    /// <summary>
    /// Registers <paramref name="endpoint"/> for <paramref name="method"/> (a token such as "GET", or
    /// <see cref="AnyMethod"/>) and <paramref name="template"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The template is invalid, the method is not a token, or a route for the same
    /// method already matches exactly the same paths.</exception>
    /// <exception cref="InvalidOperationException">The router is already built.</exception>
    public Route<TEndpoint> Add(string method, string template, TEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(template);
        RouteTemplate parsed = RouteTemplate.Parse(template);
        lock (_lock)
        {
            if (_tree is not null)
            {
                throw new InvalidOperationException(
                    $"Cannot add route '{method} {template}': the router is already built (by Build or the first Match); add every route before.");
            }

            int methodIndex = MethodIndexForAdd(method);
            string claim = $"{method} {parsed.ShapeKey}";
            if (_claimed.TryGetValue(claim, out Route<TEndpoint>? existing))
            {
                throw new ArgumentException(
                    $"Route '{method} {template}' conflicts with route '{existing}': they match exactly the same requests.", nameof(template));
            }

            var route = new Route<TEndpoint>(method, methodIndex, parsed, endpoint, _routes.Count);
            if (methodIndex >= _methods.Count)
            {
                _methods.Add(method);
            }
            _claimed.Add(claim, route);
            _routes.Add(route);
            return route;
        }
    }

    /// <summary>Builds the route tree now rather than on the first match. Idempotent.</summary>
    public void Build() => _ = _tree ?? BuildTree();

    private int MethodIndexForAdd(string method)
    {
        if (method == AnyMethod)
        {
            return -1;
        }
        if (!RouteMethods.IsToken(method))
        {
            throw new ArgumentException($"The method '{method}' is not an HTTP method token (RFC 9110 §9.1), nor '*' for any method.", nameof(method));
        }
        int index = _methods.IndexOf(method);
        if (index >= 0)
        {
            return index;
        }
        if (_methods.Count == RouteMethods.MaxCount)
        {
            throw new ArgumentException($"Cannot add the method '{method}': a router supports at most {RouteMethods.MaxCount} distinct methods.", nameof(method));
        }
        return _methods.Count;
    }

    private RouteTree<TEndpoint> BuildTree()
    {
        lock (_lock)
        {
            if (_tree is { } built)
            {
                return built;
            }
            var builder = new TreeBuilder<TEndpoint>(_methods.Count);
            foreach (Route<TEndpoint> route in _routes)
            {
                builder.Add(route);
            }
            var tree = new RouteTree<TEndpoint>(builder.Freeze(), builder.LiteralPaths(), [.. _methods]);
            _tree = tree;
            return tree;
        }
    }
}
