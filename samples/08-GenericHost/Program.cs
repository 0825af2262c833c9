// A JSON API in the .NET Generic Host (Eddy.Hosting): services by dependency injection, endpoints and limits from
// configuration (appsettings.json, Eddy__… environment variables, --Eddy:… arguments), the host's logging, and a
// graceful drain when the host stops (Ctrl-C, SIGTERM).
// Run it: dotnet run --project samples/08-GenericHost          (listens on 127.0.0.1:8080)
//         dotnet run --project samples/08-GenericHost -- 0     (any free port; the log says which)
//         Eddy__Endpoints__0__Url=http://0.0.0.0:9000 dotnet run --project samples/08-GenericHost
// Try it: curl -d '{"Title":"write docs"}' http://127.0.0.1:8080/todos
//         curl http://127.0.0.1:8080/todos/1
using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using Eddy.Hosting;
using Eddy.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSingleton<TodoStore>();          // handlers run on several loops at once: thread-safe
builder.Services.AddEddyWebApp((app, services) =>
{
    app.MapGet("/todos/{id:int}", ctx =>
    {
        var todos = ctx.Services.GetRequiredService<TodoStore>();
        if (todos.TryGet(ctx.Request.RouteValues.TryGetInt("id", out int id) ? id : 0, out Todo todo))
        {
            ctx.Response.Json(todo, AppJson.Default.Todo);
        }
        else
        {
            ctx.Response.StatusCode = 404;
        }
    });
    app.MapPost("/todos", async ctx =>
    {
        NewTodo? input = await ctx.Request.ReadJsonAsync(AppJson.Default.NewTodo);
        if (string.IsNullOrWhiteSpace(input?.Title))
        {
            ctx.Response.StatusCode = 400;
            ctx.Response.Text("a todo needs a Title");
            return;
        }
        ctx.Response.StatusCode = 201;
        ctx.Response.Json(ctx.Services.GetRequiredService<TodoStore>().Add(input.Title), AppJson.Default.Todo);
    });
}).Configure(options =>                              // a bare port argument, as the other samples take one
{
    if (options.Endpoints.Count == 0 && args is [string port] && int.TryParse(port, out _))
    {
        options.Endpoints.Add(new EddyEndpointOptions { Url = $"http://127.0.0.1:{port}" });
    }
});
await builder.Build().RunAsync();

sealed class TodoStore
{
    private readonly ConcurrentDictionary<int, Todo> _todos = new();
    private int _lastId;

    public Todo Add(string title)
    {
        var todo = new Todo(Interlocked.Increment(ref _lastId), title);
        _todos[todo.Id] = todo;
        return todo;
    }

    public bool TryGet(int id, out Todo todo) => _todos.TryGetValue(id, out todo!);
}

record Todo(int Id, string Title);
record NewTodo(string Title);

[JsonSerializable(typeof(Todo))]
[JsonSerializable(typeof(NewTodo))]
partial class AppJson : JsonSerializerContext;
