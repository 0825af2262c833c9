using Eddy.Http.Internal;
using Eddy.Loop;

namespace Eddy.Http;

/// <summary>Handles one request: fill in <see cref="HttpContext.Response"/>. May complete synchronously (a completed ValueTask costs nothing).</summary>
public delegate ValueTask RequestHandler(HttpContext context);

/// <summary>
/// One request and its response, on the loop of the connection that carried it. Handlers run on that
/// loop's thread, and their awaits resume there. One object per connection, reused per request: do not
/// keep it after the handler's task completes. Once it has completed, <see cref="Request"/>,
/// <see cref="Response"/>, <see cref="Items"/> and the request's body throw <see cref="ObjectDisposedException"/>
/// until the connection's next request starts (copy what you need first; <see cref="Loop"/> stays valid).
/// </summary>
public sealed class HttpContext
{
    private readonly HttpRequest _request;
    private readonly HttpResponse _response;
    private Dictionary<object, object?>? _items;

    internal HttpContext(EventLoop loop, HttpRequest request, HttpResponse response, IConnectionUpgrader? upgrader = null, IServiceProvider? services = null)
    {
        Loop = loop;
        Services = services ?? NoServices.Instance;
        _request = request;
        _response = response;
        Upgrader = upgrader;
    }

    /// <summary>The connection, for a layer above that takes it over after a 101 (WebSockets); null where it cannot be.</summary>
    internal IConnectionUpgrader? Upgrader { get; }

    /// <summary>The loop that runs this connection, its handlers and their continuations.</summary>
    public EventLoop Loop { get; }

    /// <summary>
    /// The application's services (<see cref="HttpServerOptions.Services"/>; the Generic Host's root provider under
    /// Eddy.Hosting), valid for the connection's life: no scope is created per request, so a handler that needs
    /// scoped services makes its own (<c>using var scope = ctx.Services.CreateScope()</c>) and handlers that do not
    /// pay nothing. Without services configured, every lookup answers null.
    /// </summary>
    public IServiceProvider Services { get; }

    /// <summary>The request: its head, complete, and its body as it arrives.</summary>
    public HttpRequest Request
    {
        get
        {
            if (_isDone)
            {
                RequestLifetime.ThrowCompleted(nameof(HttpContext));
            }
            return _request;
        }
    }

    /// <summary>The response to write.</summary>
    public HttpResponse Response
    {
        get
        {
            if (_isDone)
            {
                RequestLifetime.ThrowCompleted(nameof(HttpContext));
            }
            return _response;
        }
    }

    /// <summary>Per-request state for middleware to share; cleared after each request.</summary>
    public IDictionary<object, object?> Items
    {
        get
        {
            if (_isDone)
            {
                RequestLifetime.ThrowCompleted(nameof(HttpContext));
            }
            return _items ??= [];
        }
    }

    // Set once the handler's task has completed, cleared when the connection's next request starts
    // (loop thread only): see RequestLifetime.
    private bool _isDone;

    /// <summary>Marks the request's objects done (its handler completed) or live again (the next request starts).</summary>
    internal void SetDone(bool done)
    {
        _isDone = done;
        _request.IsDone = done;
        _response.IsDone = done;
        _request.BodyStream.IsDone = done;
    }

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
