using System.Text;
using Eddy.Fuzz;
using Eddy.Http;
using Eddy.Web;

namespace Eddy.UnitTests.Web;

/// <summary>Handlers of every Map*, sync and async; route groups; HEAD answered from GET.</summary>
public sealed class WebAppHandlerTests
{
    /// <summary>Sends the head first and the body in a later read, so an async handler truly waits.</summary>
    private static string ExchangeInTwoReads(WebApp app, string head, string body)
    {
        using var http = new InMemoryHttp(app.Build());
        http.Run(async () =>
        {
            await http.SendAsync(Encoding.ASCII.GetBytes(head));
            await http.SendAsync(Encoding.ASCII.GetBytes(body));
        });
        Assert.Empty(http.Errors);
        return http.OutputText;
    }

    private static string Exchange(WebApp app, string request)
    {
        using var http = new InMemoryHttp(app.Build());
        http.Run(() => http.SendAsync(Encoding.ASCII.GetBytes(request)));
        Assert.Empty(http.Errors);
        return http.OutputText;
    }

    private static async ValueTask Echo(HttpContext ctx) => ctx.Response.Text("got " + await ctx.Request.ReadTextAsync());

    public static TheoryData<string> Methods => ["GET", "POST", "PUT", "PATCH", "DELETE", "ANY"];

    [Theory]
    [MemberData(nameof(Methods))]
    public void EveryMapAwaitsAnAsyncLambda(string method)
    {
        var app = new WebApp();
        var group = app.MapGroup("/g");
        switch (method)
        {
            case "GET": app.MapGet("/x", async ctx => await Echo(ctx)); group.MapGet("/x", async ctx => await Echo(ctx)); break;
            case "POST": app.MapPost("/x", async ctx => await Echo(ctx)); group.MapPost("/x", async ctx => await Echo(ctx)); break;
            case "PUT": app.MapPut("/x", async ctx => await Echo(ctx)); group.MapPut("/x", async ctx => await Echo(ctx)); break;
            case "PATCH": app.MapPatch("/x", async ctx => await Echo(ctx)); group.MapPatch("/x", async ctx => await Echo(ctx)); break;
            case "DELETE": app.MapDelete("/x", async ctx => await Echo(ctx)); group.MapDelete("/x", async ctx => await Echo(ctx)); break;
            default: app.MapAny("/x", async ctx => await Echo(ctx)); group.MapAny("/x", async ctx => await Echo(ctx)); break;
        }
        string verb = method == "ANY" ? "PUT" : method;
        foreach (string path in new[] { "/x", "/g/x" })
        {
            string answer = ExchangeInTwoReads(app, $"{verb} {path} HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", "hello");
            Assert.StartsWith("HTTP/1.1 200 OK", answer);
            Assert.EndsWith("\r\n\r\ngot hello", answer);
        }
    }

    [Fact]
    public void SynchronousHandlersWorkOnEveryMap()
    {
        var app = new WebApp()
            .MapGet("/s", ctx => ctx.Response.Text("get"))
            .MapPut("/s", ctx => ctx.Response.Text("put"))
            .MapPatch("/s", ctx => ctx.Response.Text("patch"))
            .MapDelete("/s", ctx => ctx.Response.Text("delete"));
        Assert.EndsWith("\r\n\r\nput", Exchange(app, "PUT /s HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"));
        Assert.EndsWith("\r\n\r\npatch", Exchange(app, "PATCH /s HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"));
        Assert.EndsWith("\r\n\r\ndelete", Exchange(app, "DELETE /s HTTP/1.1\r\nHost: h\r\n\r\n"));
    }

#pragma warning disable VSTHRD100, CS1998 // the point: an async void handler, which Map must refuse
    private static async void AsyncVoid(HttpContext ctx) => ctx.Response.Text("too late");
#pragma warning restore VSTHRD100, CS1998

    [Fact]
    public void AnAsyncVoidHandlerIsRefusedAtMap()
    {
        var app = new WebApp();
        Assert.Throws<ArgumentException>(() => app.MapPut("/v", AsyncVoid));
        Assert.Throws<ArgumentException>(() => app.MapDelete("/v", AsyncVoid));
        Assert.Throws<ArgumentException>(() => app.Map("GET", "/v", (Action<HttpContext>)(async ctx => await Echo(ctx))));
        Assert.Throws<ArgumentException>(() => app.MapGroup("/g").MapPost("/v", AsyncVoid));
        Assert.Empty(app.Routes);
    }

    [Fact]
    public void AGroupSharesItsPrefixAndItsMiddlewareOnlyWithItsRoutes()
    {
        var log = new List<string>();
        var app = new WebApp();
        app.Use(async (ctx, next) => { log.Add("app"); await next(ctx); });
        RouteGroup api = app.MapGroup("/api/");
        api.MapGet("/users/{id}", ctx => ctx.Response.Text("user " + ctx.Request.RouteValues.GetString("id")));
        api.MapGet("/", ctx => ctx.Response.Text("api root"));
        RouteGroup admin = api.MapGroup("/admin");
        admin.MapPost("/reset", ctx => ctx.Response.Text("reset"));
        // Middleware added after the routes still runs around them.
        api.Use(async (ctx, next) => { log.Add("api"); await next(ctx); });
        admin.Use((ctx, next) =>
        {
            log.Add("admin");
            if (ctx.Request.Headers["X-Token"] != "t")
            {
                ctx.Response.StatusCode = 401;
                ctx.Response.Text("no");
                return default;
            }
            return next(ctx);
        });
        app.MapGet("/other", ctx => ctx.Response.Text("other"));

        Assert.Equal("/api", api.Prefix);
        Assert.Equal("/api/admin", admin.Prefix);
        Assert.EndsWith("\r\n\r\nuser 7", Exchange(app, "GET /api/users/7 HTTP/1.1\r\nHost: h\r\n\r\n"));
        Assert.Equal(["app", "api"], log);
        log.Clear();
        Assert.EndsWith("\r\n\r\napi root", Exchange(app, "GET /api HTTP/1.1\r\nHost: h\r\n\r\n"));
        log.Clear();
        Assert.EndsWith("\r\n\r\nother", Exchange(app, "GET /other HTTP/1.1\r\nHost: h\r\n\r\n"));
        Assert.Equal(["app"], log);
        log.Clear();
        Assert.StartsWith("HTTP/1.1 401 ", Exchange(app, "POST /api/admin/reset HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"));
        Assert.Equal(["app", "api", "admin"], log);
        Assert.EndsWith("\r\n\r\nreset", Exchange(app, "POST /api/admin/reset HTTP/1.1\r\nHost: h\r\nX-Token: t\r\nContent-Length: 0\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 404 ", Exchange(app, "GET /users/7 HTTP/1.1\r\nHost: h\r\n\r\n"));
        Assert.Throws<ArgumentException>(() => new WebApp().MapGroup("api"));
        app.Build();
        Assert.Throws<InvalidOperationException>(() => api.MapGet("/late", ctx => { }));
        Assert.Throws<InvalidOperationException>(() => api.Use((ctx, next) => next(ctx)));
    }

    [Fact]
    public void HeadIsAnsweredFromGetWithTheSameFieldsAndNoBody()
    {
        var app = new WebApp()
            .MapGet("/text", ctx => { ctx.Response.Headers.Set("X-Kind", "text"); ctx.Response.Text("Hello, World!"); })
            .MapGet("/item/{id}", ctx => ctx.Response.Text("item " + ctx.Request.RouteValues.GetString("id")))
            .MapGet("/stream", async ctx => { await ctx.Response.WriteAsync("abc"u8.ToArray()); await ctx.Response.WriteAsync("def"u8.ToArray()); })
            .MapGet("/both", ctx => ctx.Response.Text("from GET"))
            .Map("HEAD", "/both", ctx => { ctx.Response.Headers.Set("X-Head", "own"); ctx.Response.Text("from GET"); });
        app.MapGroup("/g").MapGet("/x", ctx => ctx.Response.Text("grouped"));

        foreach (string path in new[] { "/text", "/item/42", "/g/x" })
        {
            string get = Exchange(app, $"GET {path} HTTP/1.1\r\nHost: h\r\n\r\n");
            string head = Exchange(app, $"HEAD {path} HTTP/1.1\r\nHost: h\r\n\r\n");
            string getHead = get[..(get.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)];
            Assert.Contains("Content-Length: ", getHead);
            Assert.Equal(WithoutDate(getHead), WithoutDate(head)); // the same fields, Content-Length included, and no body
        }
        string streamed = Exchange(app, "HEAD /stream HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Contains("Transfer-Encoding: chunked\r\n", streamed);
        Assert.EndsWith("\r\n\r\n", streamed);
        Assert.DoesNotContain("abc", streamed);
        string own = Exchange(app, "HEAD /both HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Contains("X-Head: own\r\n", own);
        Assert.EndsWith("\r\n\r\n", own);
    }

    private static string WithoutDate(string head) =>
        string.Join("\r\n", head.Split("\r\n").Where(line => !line.StartsWith("Date:", StringComparison.Ordinal)));
}
