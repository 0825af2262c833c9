// KestrelMinimal: ASP.NET Core minimal API on Kestrel, the ".NET web framework
// as most people run it" peer for bench/http.sh.
//
//   usage: KestrelMinimal PORT
//
// Serves, on 127.0.0.1:PORT (HTTP/1.1, no TLS):
//   GET /plaintext -> 200 "Hello, World!"                 text/plain
//   GET /json      -> 200 {"message":"Hello, World!"}     application/json; charset=utf-8
// as TechEmpower's ASP.NET Core "minimal" entry does: WebApplication.CreateBuilder,
// logging providers cleared, MapGet endpoints returning Results.Text and a JSON
// result serialized with a source-generated JsonSerializerContext. Kestrel adds
// the Server ("Kestrel") and Date (refreshed once per second) headers itself.
// Prints "kestrel listening on http://127.0.0.1:PORT" once the server has started.
// Exits on SIGTERM/SIGINT (the generic host's default console lifetime).

using System.Net;
using System.Text.Json.Serialization;
using KestrelMinimal;

if (args.Length != 1 || !int.TryParse(args[0], out int port) || port is < 1 or > 65535)
{
    Console.Error.WriteLine("usage: KestrelMinimal PORT");
    return 2;
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    // The port is our only argument; nothing else is read from the command line,
    // except that configuration files are not watched for changes (the default
    // watcher would observe the content root; keep the server's core quiet).
    Args = ["--hostBuilder:reloadConfigOnChange=false"],
    ContentRootPath = AppContext.BaseDirectory,
});

// Disable logging as this is not required for the benchmark (as TechEmpower does).
builder.Logging.ClearProviders();

builder.WebHost.ConfigureKestrel(options =>
{
    options.AddServerHeader = true; // the default; stated because the comparison depends on it
    options.Listen(IPAddress.Loopback, port);
});

var app = builder.Build();

const string HelloWorld = "Hello, World!";

app.MapGet("/plaintext", () => Results.Text(HelloWorld, "text/plain"));

app.MapGet("/json", () => TypedResults.Json(new JsonMessage { Message = HelloWorld }, AppJsonContext.Default.JsonMessage));

app.Lifetime.ApplicationStarted.Register(() =>
{
    Console.WriteLine($"kestrel listening on http://127.0.0.1:{port}");
    Console.Out.Flush();
});

await app.RunAsync();
return 0;

namespace KestrelMinimal
{
    /// <summary>The TechEmpower JSON test's message object.</summary>
    public sealed class JsonMessage
    {
        /// <summary>Always "Hello, World!".</summary>
        public required string Message { get; init; }
    }

    /// <summary>Source-generated serializer for <see cref="JsonMessage"/> (camelCase: {"message":...}).</summary>
    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
    [JsonSerializable(typeof(JsonMessage))]
    internal sealed partial class AppJsonContext : JsonSerializerContext;
}
