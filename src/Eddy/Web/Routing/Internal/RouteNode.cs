namespace Eddy.Web.Routing.Internal;

/// <summary>
/// A node of the frozen route tree: the routes whose templates share a prefix of segments. Children are
/// tried in precedence order: the literal child for the next segment, then the parameter edges (constrained
/// ones first, in the order they were first registered, then the unconstrained one), then the catch-alls.
/// Built once by <see cref="TreeBuilder{TEndpoint}"/>; immutable afterwards, so any thread may match.
/// </summary>
internal sealed class RouteNode<TEndpoint>
{
    public static readonly ParameterEdge<TEndpoint>[] NoParameters = [];
    public static readonly CatchAllEdge<TEndpoint>[] NoCatchAlls = [];

    /// <summary>Literal children by segment text (ASCII case-insensitive); null when there are none.</summary>
    public LiteralTable<TEndpoint>? Literals;

    public ParameterEdge<TEndpoint>[] Parameters = NoParameters;

    public CatchAllEdge<TEndpoint>[] CatchAlls = NoCatchAlls;

    /// <summary>Routes that end here when the path ends here.</summary>
    public MethodTable<TEndpoint>? Exact;

    /// <summary>
    /// Routes that end here through an optional parameter: its value present (a node reached by a parameter
    /// edge) or omitted (the node before it). Ranked after <see cref="Exact"/>.
    /// </summary>
    public MethodTable<TEndpoint>? Optional;
}

/// <summary>A parameter segment: taken when the segment is non-empty and passes every constraint.</summary>
internal readonly struct ParameterEdge<TEndpoint>(RouteConstraint[] constraints, RouteNode<TEndpoint> target)
{
    public readonly RouteConstraint[] Constraints = constraints;
    public readonly RouteNode<TEndpoint> Target = target;
}

/// <summary>A catch-all: takes the rest of the path (possibly empty) if it passes every constraint.</summary>
internal readonly struct CatchAllEdge<TEndpoint>(RouteConstraint[] constraints, MethodTable<TEndpoint> routes)
{
    public readonly RouteConstraint[] Constraints = constraints;
    public readonly MethodTable<TEndpoint> Routes = routes;
}

/// <summary>
/// The routes that end at one place in the tree, by method. Lookup prefers the exact method, then for HEAD
/// the GET route (RFC 9110 §9.3.2: HEAD is GET without the content), then the any-method route.
/// </summary>
internal sealed class MethodTable<TEndpoint>
{
    /// <summary>By method index (<see cref="RouteMethods"/>); as long as the router's method list at build time.</summary>
    public readonly Route<TEndpoint>?[] ByMethod;

    public Route<TEndpoint>? Any;

    /// <summary>Bit i is set when <see cref="ByMethod"/>[i] is; feeds the Allow header of a 405.</summary>
    public ulong Mask;

    public MethodTable(int methodCount) => ByMethod = new Route<TEndpoint>?[methodCount];

    /// <summary>Keeps the first route registered for a method: later ones only reach here through an optional parameter.</summary>
    public void Add(Route<TEndpoint> route)
    {
        if (route.MethodIndex < 0)
        {
            Any ??= route;
        }
        else if (ByMethod[route.MethodIndex] is null)
        {
            ByMethod[route.MethodIndex] = route;
            Mask |= 1UL << route.MethodIndex;
        }
    }

    public Route<TEndpoint>? Find(int method)
    {
        Route<TEndpoint>?[] byMethod = ByMethod;
        // (uint) cast: one compare covers both -1 (a method no route names) and indices past the table.
        Route<TEndpoint>? route = (uint)method < (uint)byMethod.Length ? byMethod[method] : null;
        if (route is null && method == RouteMethods.Head)
        {
            route = byMethod[RouteMethods.Get];
        }
        return route ?? Any;
    }
}
