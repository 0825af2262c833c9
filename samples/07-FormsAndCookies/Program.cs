// Route groups, cookies and forms: a group of routes behind a cookie check, a login that sets the cookie,
// a multipart upload streamed to disk part by part, and a form read whole.
// Run it: dotnet run --project samples/07-FormsAndCookies          (listens on 127.0.0.1:8080)
//         dotnet run --project samples/07-FormsAndCookies -- 0     (any free port; the first line says which)
// Try it: curl -i -X POST http://127.0.0.1:8080/login               (Set-Cookie: session=…)
//         curl -b session=s3cr3t http://127.0.0.1:8080/api/me
//         curl -F note=hi -F file=@README.md http://127.0.0.1:8080/upload-form
//         curl --data-urlencode 'q=event loops' http://127.0.0.1:8080/search
using System.Net;
using Eddy.Http;            // CookieOptions, SameSiteMode
using Eddy.Loop;
using Eddy.Transports;
using Eddy.Web;
using Eddy.Web.Forms;       // ReadMultipartAsync, ReadFormAsync, FormOptions

var app = new WebApp();
RouteGroup api = app.MapGroup("/api").Use(async (ctx, next) =>   // middleware for /api/… only
{
    if (!ctx.Request.Cookies.TryGetValue("session", out string? session))
    {
        ctx.Response.StatusCode = 401;
        ctx.Response.Text("log in\n");
        return;
    }
    await next(ctx);
});
api.MapGet("/me", ctx => ctx.Response.Text("you\n"));              // GET /api/me (and HEAD /api/me)
api.MapGroup("/admin").MapDelete("/cache", ctx => { ctx.Response.StatusCode = 204; });   // DELETE /api/admin/cache

app.MapPost("/login", ctx =>
{
    ctx.Response.Cookies.Append("session", "s3cr3t", new CookieOptions { Path = "/", HttpOnly = true, Secure = true, SameSite = SameSiteMode.Lax, MaxAge = TimeSpan.FromHours(8) });
    ctx.Response.Text("ok\n");
});
Directory.CreateDirectory("uploads");
app.MapPost("/upload-form", async ctx =>
{
    await foreach (MultipartSection part in ctx.Request.ReadMultipartAsync())   // parts in order, as they arrive
    {
        if (part.IsFile)
        {
            await using FileStream file = File.Create(Path.Combine("uploads", Path.GetRandomFileName()));
            await part.Body.CopyToAsync(file);                                   // a file of any size: 64 KiB of memory
        }
    }
    ctx.Response.Text("stored\n");
});
app.MapPost("/search", async ctx =>
{
    FormData form = await ctx.Request.ReadFormAsync();   // urlencoded or multipart; files only with includeFiles: true
    ctx.Response.Text($"q={form["q"]}\n");
});

int port = args.Length > 0 ? int.Parse(args[0]) : 8080;
using var loops = new LoopGroup();                   // one loop per core
loops.Start();
GroupServer server = await app.ListenAsync(loops, new IPEndPoint(IPAddress.Loopback, port));
Console.WriteLine($"listening on http://{server.EndPoint}");
await Task.Delay(Timeout.Infinite);
