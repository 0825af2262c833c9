using Eddy.Http;
using Eddy.Web.Routing;

namespace Eddy.Web;

/// <summary>
/// The route values of a request <see cref="WebApp"/> dispatched: <c>ctx.Request.RouteValues.GetString("id")</c>
/// for <c>/users/{id}</c>. Routing is the web framework's business, so HTTP core's <see cref="HttpRequest"/> does
/// not know the type; this extension property reads what the router left in the request's per-connection slot.
/// </summary>
public static class RouteValuesExtensions
{
    extension(HttpRequest request)
    {
        /// <summary>Values the router took from the path (e.g. <c>id</c> for <c>/users/{id}</c>); empty outside a routed handler.</summary>
        public RouteValues RouteValues => request.ApplicationState is RouteState state ? state.Values : default;
    }
}

/// <summary>
/// One per connection, made at its first routed request: the router writes each request's values into it in
/// place (a large struct: one copy, not three), so routing allocates nothing per request.
/// </summary>
internal sealed class RouteState
{
    public RouteValues Values;

    public static RouteState Of(HttpRequest request) =>
        request.ApplicationState as RouteState ?? (RouteState)(request.ApplicationState = new RouteState());
}
