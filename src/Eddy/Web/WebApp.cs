using System.Net;
using Eddy.Http;
using Eddy.Http.Parsing;
using Eddy.Loop;
using Eddy.Tls;
using Eddy.Transports;
using Eddy.Web.Routing;
using Eddy.WebSockets;
using Microsoft.Extensions.Logging;

namespace Eddy.Web;

/// <summary>
/// A web application: routes (method + path template → handler), middleware around them, static files.
/// Build it, then serve it with <c>ListenAsync</c> (one loop per core) or turn it into a
/// <see cref="RequestHandler"/> with <see cref="Build"/>. Handlers run on the connection's loop thread.
/// <code>
/// var app = new WebApp();
/// app.MapGet("/hello/{name}", ctx => ctx.Response.Text($"Hello, {ctx.Request.RouteValues.GetString("name")}!"));
/// app.Use(async (ctx, next) => { var t = Stopwatch.GetTimestamp(); await next(ctx); log(...); });
/// </code>
/// </summary>
public sealed class WebApp
{
    private readonly Router<RequestHandler> _router = new();
    private readonly List<Func<HttpContext, RequestHandler, ValueTask>> _middleware = [];
    private readonly List<RouteGroup.GroupEndpoint> _groupEndpoints = []; // composed by Build
    private RequestHandler? _built;
    private string _serverAllow = "OPTIONS"; // the methods of every route, for OPTIONS * (set by Build)
    private bool _mapsConnect;                // a route takes CONNECT itself (set by Build)

    /// <summary>The routes, in the order added (the demo's home page lists them).</summary>
    public IReadOnlyList<Route<RequestHandler>> Routes => _router.Routes;

    /// <summary>Maps <paramref name="method"/> (a token, or <see cref="Router{TEndpoint}.AnyMethod"/>) and <paramref name="template"/> to <paramref name="handler"/>.</summary>
    public WebApp Map(string method, string template, RequestHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ThrowIfBuilt();
        _router.Add(method, template, handler);
        return this;
    }

    /// <summary>
    /// Maps a handler that completes synchronously (it pays nothing for the asynchronous case). An <c>async</c>
    /// lambda goes to the <see cref="RequestHandler"/> overload and is awaited; an <c>async void</c> method is
    /// refused here (<see cref="ArgumentException"/>): nothing could await it, so the response would be sent
    /// before it ran and its exceptions would escape the loop.
    /// </summary>
    public WebApp Map(string method, string template, Action<HttpContext> handler) => Map(method, template, Synchronous(handler));

    /// <summary>Maps GET (HEAD too: answered as GET, without the body).</summary>
    public WebApp MapGet(string template, RequestHandler handler) => Map("GET", template, handler);

    /// <summary>Maps GET with a handler that completes synchronously.</summary>
    public WebApp MapGet(string template, Action<HttpContext> handler) => Map("GET", template, handler);

    /// <summary>
    /// Maps a WebSocket endpoint (GET with the RFC 6455 handshake): a valid handshake is answered 101 and
    /// <paramref name="handler"/> runs with the connection, on its loop, closing it (1000) when it ends if it is
    /// still open (1011 if it threw); an invalid one gets 400, 426 or 403 (see
    /// <see cref="WebSocketHttpContextExtensions"/>).
    /// </summary>
    public WebApp MapWebSocket(string template, WebSocketHandler handler, WebSocketOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return Map("GET", template, async context =>
        {
            WebSocketConnection? webSocket = await context.AcceptWebSocketAsync(options);
            if (webSocket is not null)
            {
                await handler(context, webSocket);
            }
        });
    }

    /// <summary>Maps POST.</summary>
    public WebApp MapPost(string template, RequestHandler handler) => Map("POST", template, handler);

    /// <summary>Maps POST with a handler that completes synchronously.</summary>
    public WebApp MapPost(string template, Action<HttpContext> handler) => Map("POST", template, handler);

    /// <summary>Maps PUT.</summary>
    public WebApp MapPut(string template, RequestHandler handler) => Map("PUT", template, handler);

    /// <summary>Maps PUT with a handler that completes synchronously.</summary>
    public WebApp MapPut(string template, Action<HttpContext> handler) => Map("PUT", template, handler);

    /// <summary>Maps DELETE.</summary>
    public WebApp MapDelete(string template, RequestHandler handler) => Map("DELETE", template, handler);

    /// <summary>Maps DELETE with a handler that completes synchronously.</summary>
    public WebApp MapDelete(string template, Action<HttpContext> handler) => Map("DELETE", template, handler);

    /// <summary>Maps PATCH.</summary>
    public WebApp MapPatch(string template, RequestHandler handler) => Map("PATCH", template, handler);

    /// <summary>Maps PATCH with a handler that completes synchronously.</summary>
    public WebApp MapPatch(string template, Action<HttpContext> handler) => Map("PATCH", template, handler);

    /// <summary>Maps every method.</summary>
    public WebApp MapAny(string template, Action<HttpContext> handler) => Map(Router<RequestHandler>.AnyMethod, template, handler);

    /// <summary>Maps every method.</summary>
    public WebApp MapAny(string template, RequestHandler handler) => Map(Router<RequestHandler>.AnyMethod, template, handler);

    /// <summary>
    /// Adds middleware: it receives the context and the rest of the pipeline (<c>next</c>), and may act before
    /// and after calling it, or answer itself without calling it. The first added runs outermost.
    /// </summary>
    public WebApp Use(Func<HttpContext, RequestHandler, ValueTask> middleware)
    {
        ArgumentNullException.ThrowIfNull(middleware);
        ThrowIfBuilt();
        _middleware.Add(middleware);
        return this;
    }

    /// <summary>Logs every request to <paramref name="logger"/> (see <see cref="AccessLog"/>). Add it before other middleware, so it times them.</summary>
    public WebApp UseAccessLog(ILogger logger) => Use(AccessLog.Middleware(logger));

    /// <summary>Serves the files under <paramref name="directory"/> at <c>{urlPrefix}/{*path}</c> (GET and HEAD).</summary>
    public WebApp UseStaticFiles(string urlPrefix, string directory)
    {
        var files = new StaticFiles(directory);
        string template = urlPrefix.TrimEnd('/') + "/{*path}";
        Map("GET", template, files.ServeAsync);
        return this;
    }

    /// <summary>The whole application as one handler: middleware, then routing. The pipeline is composed once.</summary>
    public RequestHandler Build()
    {
        if (_built is not null)
        {
            return _built;
        }
        _router.Build();
        foreach (RouteGroup.GroupEndpoint endpoint in _groupEndpoints)
        {
            endpoint.Compose();
        }
        _serverAllow = ServerAllow(_router.Routes);
        _mapsConnect = _router.Routes.Any(r => r.Method == "CONNECT");
        RequestHandler pipeline = Dispatch;
        for (int i = _middleware.Count - 1; i >= 0; i--)
        {
            Func<HttpContext, RequestHandler, ValueTask> middleware = _middleware[i];
            RequestHandler next = pipeline;
            pipeline = context => middleware(context, next);
        }
        return _built = pipeline;
    }

    /// <summary>Serves the application on every loop of a started <paramref name="loops"/>, on <paramref name="endPoint"/>.</summary>
    public Task<GroupServer> ListenAsync(LoopGroup loops, EndPoint endPoint, HttpServerOptions? options = null) =>
        HttpServer.ListenAsync(loops, Build(), endPoint, options);

    /// <summary>Serves the application over HTTPS (TLS as <paramref name="tls"/> says) on every loop of a started <paramref name="loops"/>.</summary>
    public Task<GroupServer> ListenAsync(LoopGroup loops, EndPoint endPoint, TlsServerOptions tls, HttpServerOptions? options = null) =>
        HttpServer.ListenAsync(loops, Build(), endPoint, tls, options);

    /// <summary>What the server as a whole allows: every method a route maps (all of them for a route of any method), and OPTIONS.</summary>
    private static string ServerAllow(IReadOnlyList<Route<RequestHandler>> routes)
    {
        string[] standard = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
        var methods = new List<string>();
        foreach (Route<RequestHandler> route in routes)
        {
            foreach (string method in route.IsAnyMethod ? standard : route.Method == "GET" ? ["GET", "HEAD"] : [route.Method])
            {
                if (!methods.Contains(method))
                {
                    methods.Add(method);
                }
            }
        }
        if (!methods.Contains("OPTIONS"))
        {
            methods.Add("OPTIONS");
        }
        return string.Join(", ", methods);
    }

    private ValueTask Dispatch(HttpContext context)
    {
        HttpRequest request = context.Request;
        if (request.Verb is HttpVerb.Options or HttpVerb.Connect && AnswerServerWide(context))
        {
            return default;
        }
        RouteState state = RouteState.Of(request);
        // A path of literal segments (/plaintext) is one lookup of the raw bytes; the decoded path is then never made.
        if (_router.MatchLiteralPath(request.Verb, HttpTarget.PathBytes(request.TargetBytes), out state.Values) is { } literal)
        {
            context.Route = literal.Template;
            return literal.Endpoint(context);
        }
        ReadOnlyMemory<char> path = request.PathMemory;
        if (_router.MatchRoute(request.Method, path, out state.Values) is { } route)
        {
            context.Route = route.Template;
            return route.Endpoint(context);
        }
        RouteMatch<RequestHandler> match = _router.NotMatched(path.Span);
        HttpResponse response = context.Response;
        response.StatusCode = match.StatusCode;
        if (match.AllowedMethods is { } allowed)
        {
            response.Headers.Set("Allow", allowed);
        }
        response.Text(match.StatusCode == 405 ? "Method Not Allowed\n" : "Not Found\n");
        return default;
    }

    /// <summary>
    /// Requests about the server rather than a resource: <c>OPTIONS *</c> is answered 200 with the methods the
    /// application serves (RFC 9110 §9.3.7); <c>CONNECT</c>, a tunnel, is not a route's business: 501 Not
    /// Implemented (§9.3.6, §15.6.2) unless a route maps CONNECT itself.
    /// </summary>
    private bool AnswerServerWide(HttpContext context)
    {
        HttpRequest request = context.Request;
        HttpResponse response = context.Response;
        if (request.Verb == HttpVerb.Options && request.TargetBytes.SequenceEqual("*"u8))
        {
            response.Headers.Set("Allow", _serverAllow);
            response.Bytes([], "text/plain; charset=utf-8");
            return true;
        }
        if (request.Verb == HttpVerb.Connect && !_mapsConnect)
        {
            response.StatusCode = 501;
            response.CloseConnection = true; // the client meant the rest of the stream for a tunnel
            response.Text("CONNECT is not supported.\n");
            return true;
        }
        return false;
    }

    /// <summary>
    /// Routes under <paramref name="prefix"/> (literal segments or parameters, e.g. <c>/api</c>) that share
    /// middleware of their own; see <see cref="RouteGroup"/>.
    /// </summary>
    public RouteGroup MapGroup(string prefix) => AddGroup(null, prefix);

    internal RouteGroup AddGroup(RouteGroup? parent, string prefix)
    {
        ThrowIfBuilt();
        return new RouteGroup(this, parent, prefix);
    }

    internal void AddGroupEndpoint(RouteGroup.GroupEndpoint endpoint) => _groupEndpoints.Add(endpoint);

    /// <summary>A synchronous handler as a <see cref="RequestHandler"/>; an <c>async void</c> one is refused.</summary>
    internal static RequestHandler Synchronous(Action<HttpContext> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (handler.Method.IsDefined(typeof(System.Runtime.CompilerServices.AsyncStateMachineAttribute), inherit: false))
        {
            throw new ArgumentException(
                "An async void handler cannot be awaited: the response would be sent before it ran, and its exceptions would escape the loop. Return a ValueTask (declare it 'async ValueTask', or pass the async lambda where a RequestHandler is expected).",
                nameof(handler));
        }
        return context =>
        {
            handler(context);
            return default;
        };
    }

    internal void ThrowIfBuilt()
    {
        if (_built is not null)
        {
            throw new InvalidOperationException("The application was built already; add routes and middleware before Build or ListenAsync.");
        }
    }
}
