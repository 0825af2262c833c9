using Eddy.Http.Internal;
using Eddy.Loop;

namespace Eddy.Http;

/// <summary>Handles one request: fill in <see cref="HttpContext.Response"/>. May complete synchronously (a completed ValueTask costs nothing).</summary>
public delegate ValueTask RequestHandler(HttpContext context);

/// <summary>
/// One request and its response, on the loop of the connection that carried it. Handlers run on that
/// loop's thread, and their awaits resume there. One object per connection, reused per request: do not
/// keep it after the handler's task completes.
/// </summary>
public sealed class HttpContext
{
    private Dictionary<object, object?>? _items;

    internal HttpContext(EventLoop loop, HttpRequest request, HttpResponse response, IConnectionUpgrader? upgrader = null)
    {
        Loop = loop;
        Request = request;
        Response = response;
        Upgrader = upgrader;
    }

    /// <summary>The connection, for a layer above that takes it over after a 101 (WebSockets); null where it cannot be.</summary>
    internal IConnectionUpgrader? Upgrader { get; }

    /// <summary>The loop that runs this connection, its handlers and their continuations.</summary>
    public EventLoop Loop { get; }

    /// <summary>The request: its head, complete, and its body as it arrives.</summary>
    public HttpRequest Request { get; }

    /// <summary>The response to write.</summary>
    public HttpResponse Response { get; }

    /// <summary>Per-request state for middleware to share; cleared after each request.</summary>
    public IDictionary<object, object?> Items => _items ??= [];

    /// <summary>
    /// The route template that matched the request (<c>/users/{id}</c>), set by the router (<c>WebApp</c>); null
    /// when none did or no router ran. Metrics tag the request with it (<c>http.route</c>), and the loop's
    /// watchdog names it. Cleared after each request.
    /// </summary>
    public string? Route { get; set; }

    /// <summary>The method and the route (or, with no route, the path): <c>GET /users/{id}</c>.</summary>
    public override string ToString() => $"{Request.Method} {Route ?? Request.Path}";

    internal void Reset()
    {
        _items?.Clear();
        Route = null;
    }
}
