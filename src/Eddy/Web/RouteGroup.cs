using Eddy.Http;
using Eddy.Web.Routing;

namespace Eddy.Web;

/// <summary>
/// Routes under a shared prefix with middleware of their own, made by <see cref="WebApp.MapGroup"/> (or
/// <see cref="MapGroup"/> for a nested group). A request to one of the group's routes runs the application's
/// middleware, then the group's (outer groups first, each in the order added), then the handler; requests to
/// other routes never see the group's middleware. Middleware may be added before or after the routes: the
/// pipelines are composed once, when the application is built.
/// <code>
/// RouteGroup api = app.MapGroup("/api").Use(RequireToken);
/// api.MapGet("/users/{id}", GetUser);          // GET /api/users/{id}
/// api.MapPost("/users", async ctx => { ... }); // POST /api/users
/// </code>
/// </summary>
public sealed class RouteGroup
{
    private readonly WebApp _app;
    private readonly RouteGroup? _parent;
    private readonly List<Func<HttpContext, RequestHandler, ValueTask>> _middleware = [];

    internal RouteGroup(WebApp app, RouteGroup? parent, string prefix)
    {
        _app = app;
        _parent = parent;
        Prefix = (parent?.Prefix ?? "") + NormalizePrefix(prefix);
    }

    /// <summary>The path every route of the group starts with (the prefixes of outer groups included), without a trailing slash.</summary>
    public string Prefix { get; }

    /// <summary>Adds middleware that runs only for this group's routes (and those of groups inside it); see <see cref="WebApp.Use"/>.</summary>
    public RouteGroup Use(Func<HttpContext, RequestHandler, ValueTask> middleware)
    {
        ArgumentNullException.ThrowIfNull(middleware);
        _app.ThrowIfBuilt();
        _middleware.Add(middleware);
        return this;
    }

    /// <summary>A group inside this one: its prefix follows this group's, and this group's middleware runs around its own.</summary>
    public RouteGroup MapGroup(string prefix) => _app.AddGroup(this, prefix);

    /// <summary>Maps <paramref name="method"/> and <see cref="Prefix"/> + <paramref name="template"/> to <paramref name="handler"/>.</summary>
    public RouteGroup Map(string method, string template, RequestHandler handler)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(handler);
        var endpoint = new GroupEndpoint(this, handler);
        _app.Map(method, Prefix + (template is "" or "/" && Prefix.Length > 0 ? "" : template), endpoint.Invoke);
        _app.AddGroupEndpoint(endpoint);
        return this;
    }

    /// <summary>Maps a handler that completes synchronously (an <c>async</c> lambda is taken as a <see cref="RequestHandler"/> instead, and awaited).</summary>
    public RouteGroup Map(string method, string template, Action<HttpContext> handler) => Map(method, template, WebApp.Synchronous(handler));

    /// <summary>Maps GET (HEAD too: answered as GET, without the body).</summary>
    public RouteGroup MapGet(string template, RequestHandler handler) => Map("GET", template, handler);

    /// <summary>Maps GET with a handler that completes synchronously.</summary>
    public RouteGroup MapGet(string template, Action<HttpContext> handler) => Map("GET", template, handler);

    /// <summary>Maps POST.</summary>
    public RouteGroup MapPost(string template, RequestHandler handler) => Map("POST", template, handler);

    /// <summary>Maps POST with a handler that completes synchronously.</summary>
    public RouteGroup MapPost(string template, Action<HttpContext> handler) => Map("POST", template, handler);

    /// <summary>Maps PUT.</summary>
    public RouteGroup MapPut(string template, RequestHandler handler) => Map("PUT", template, handler);

    /// <summary>Maps PUT with a handler that completes synchronously.</summary>
    public RouteGroup MapPut(string template, Action<HttpContext> handler) => Map("PUT", template, handler);

    /// <summary>Maps PATCH.</summary>
    public RouteGroup MapPatch(string template, RequestHandler handler) => Map("PATCH", template, handler);

    /// <summary>Maps PATCH with a handler that completes synchronously.</summary>
    public RouteGroup MapPatch(string template, Action<HttpContext> handler) => Map("PATCH", template, handler);

    /// <summary>Maps DELETE.</summary>
    public RouteGroup MapDelete(string template, RequestHandler handler) => Map("DELETE", template, handler);

    /// <summary>Maps DELETE with a handler that completes synchronously.</summary>
    public RouteGroup MapDelete(string template, Action<HttpContext> handler) => Map("DELETE", template, handler);

    /// <summary>Maps every method.</summary>
    public RouteGroup MapAny(string template, RequestHandler handler) => Map(Router<RequestHandler>.AnyMethod, template, handler);

    /// <summary>Maps every method with a handler that completes synchronously.</summary>
    public RouteGroup MapAny(string template, Action<HttpContext> handler) => Map(Router<RequestHandler>.AnyMethod, template, handler);

    /// <summary><paramref name="handler"/> inside this group's middleware and then its parents'.</summary>
    internal RequestHandler Compose(RequestHandler handler)
    {
        RequestHandler pipeline = handler;
        for (int i = _middleware.Count - 1; i >= 0; i--)
        {
            Func<HttpContext, RequestHandler, ValueTask> middleware = _middleware[i];
            RequestHandler next = pipeline;
            pipeline = context => middleware(context, next);
        }
        return _parent is null ? pipeline : _parent.Compose(pipeline);
    }

    private static string NormalizePrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string trimmed = prefix.TrimEnd('/');
        if (trimmed.Length > 0 && trimmed[0] != '/')
        {
            throw new ArgumentException($"A group prefix starts with '/': '{prefix}'.", nameof(prefix));
        }
        return trimmed;
    }

    /// <summary>
    /// A route of a group: the router holds <see cref="Invoke"/> from the start, and the pipeline it calls is
    /// composed at build time, so middleware added after the route still runs around it.
    /// </summary>
    internal sealed class GroupEndpoint(RouteGroup group, RequestHandler handler)
    {
        private RequestHandler? _pipeline; // set once by Build, before any request

        public void Compose() => _pipeline = group.Compose(handler);

        public ValueTask Invoke(HttpContext context) => _pipeline!(context);
    }
}
