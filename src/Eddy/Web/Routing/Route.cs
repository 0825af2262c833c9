using System.Collections.ObjectModel;
using Eddy.Web.Routing.Internal;

namespace Eddy.Web.Routing;

/// <summary>
/// A registered route: the method, the template as written, its parameter names (in template order) and the
/// endpoint. Returned by <see cref="Router{TEndpoint}.Add"/>, listed by <see cref="Router{TEndpoint}.Routes"/>,
/// and carried by a successful <see cref="RouteMatch{TEndpoint}"/>. Immutable.
/// </summary>
public sealed class Route<TEndpoint>
{
    internal Route(string method, int methodIndex, RouteTemplate template, TEndpoint endpoint, int order)
    {
        Method = method;
        MethodIndex = methodIndex;
        Parsed = template;
        Endpoint = endpoint;
        Order = order;
        ParameterNames = Array.AsReadOnly(template.ParameterNames);
    }

    /// <summary>The method token as registered, or <see cref="Router{TEndpoint}.AnyMethod"/> ("*").</summary>
    public string Method { get; }

    /// <summary>The template exactly as registered (before normalising slashes).</summary>
    public string Template => Parsed.Text;

    /// <summary>Parameter names in template order: the names <see cref="RouteValues"/> answers to.</summary>
    public ReadOnlyCollection<string> ParameterNames { get; }

    /// <summary>What the route leads to: for <see cref="Web.WebApp"/>, the handler.</summary>
    public TEndpoint Endpoint { get; }

    /// <summary>Registration order, from 0. Breaks ties between routes of equal precedence.</summary>
    public int Order { get; }

    /// <summary>True for a route registered for every method (<see cref="Router{TEndpoint}.AnyMethod"/>).</summary>
    public bool IsAnyMethod => MethodIndex < 0;

    /// <summary>Index into the router's method list (<see cref="RouteMethods"/>); -1 for any method.</summary>
    internal int MethodIndex { get; }

    internal RouteTemplate Parsed { get; }

    /// <summary>Parameter names as an array, shared with every <see cref="RouteValues"/> of this route.</summary>
    internal string[] Names => Parsed.ParameterNames;

    /// <summary>"GET /users/{id:int}".</summary>
    public override string ToString() => $"{Method} {Parsed.Text}";
}
