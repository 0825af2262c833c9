// A web app of your own: routes, JSON, a streamed upload, a logging middleware and static files.
// Run it: dotnet run --project samples/01-HelloWebApp          (listens on 127.0.0.1:8080)
//         dotnet run --project samples/01-HelloWebApp -- 0     (any free port; the first line says which)
// Try it: curl http://127.0.0.1:8080/hello/world
//         curl -d '{"Id":7}' http://127.0.0.1:8080/users
//         curl -T README.md http://127.0.0.1:8080/files/readme.txt
//
// Handlers run on the loop thread of their connection. The request, the response and the context are
// reused for the connection's next request: use them only until the handler's task completes.
using System.Net;
using System.Text.Json.Serialization;
using Eddy.Hosting;
using Eddy.Web;

var app = new WebApp();
app.MapGet("/hello/{name}", ctx => ctx.Response.Text($"Hello, {ctx.Request.RouteValues.GetString("name")}!"));
app.MapGet("/users/{id:int}", ctx => ctx.Response.Json(new User(ctx.Request.RouteValues.TryGetInt("id", out int id) ? id : 0), AppJson.Default.User));
app.MapPost("/users", async ctx =>                   // the body, whole (bounded by the 30 MB limit), as JSON
{
    User? user = await ctx.Request.ReadJsonAsync(AppJson.Default.User);
    ctx.Response.Json(user ?? new User(0), AppJson.Default.User);
});
Directory.CreateDirectory("uploads");
app.MapPut("/files/{name}", async ctx =>             // the body as it streams in: memory stays bounded
{
    ctx.Request.MaxBodySize = null;                  // this route takes uploads of any size
    await using FileStream file = File.Create(Path.Combine("uploads", Path.GetFileName(ctx.Request.RouteValues.GetString("name")!)));
    await ctx.Request.Body.CopyToAsync(file);        // Body is a Stream; ReadAsync returns 0 at its end
    ctx.Response.StatusCode = 201;
});
app.Use(async (ctx, next) =>                         // middleware: runs around every handler
{
    string line = $"{ctx.Request.Method} {ctx.Request.Path}";   // copy before the handler completes: the request
    await next(ctx);                                 // is reused for the connection's next one (using it after
    Console.WriteLine($"{line} {ctx.Response.StatusCode}");     // that throws ObjectDisposedException)
});
if (Directory.Exists("wwwroot"))
{
    app.UseStaticFiles("/static", "wwwroot");        // GET /static/a.css serves wwwroot/a.css
}

// One loop per core until Ctrl-C/SIGTERM, then a graceful drain; for HTTPS or several endpoints, see ServerHost.
int port = args.Length > 0 ? int.Parse(args[0]) : 8080;
return await app.RunAsync(new IPEndPoint(IPAddress.Loopback, port));

record struct User(int Id);

[JsonSerializable(typeof(User))]                     // source-generated: works under Native AOT
partial class AppJson : JsonSerializerContext;
