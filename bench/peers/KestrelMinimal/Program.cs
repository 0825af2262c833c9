// KestrelMinimal: ASP.NET Core minimal API on Kestrel, the ".NET web framework
// as most people run it" peer for bench/http.sh, bench/soak.sh and bench/upload.sh.
//
//   usage: KestrelMinimal PORT [STATIC_DIR]
//
// Serves, on 127.0.0.1:PORT (HTTP/1.1, no TLS):
//   GET /plaintext -> 200 "Hello, World!"                 text/plain
//   GET /json      -> 200 {"message":"Hello, World!"}     application/json; charset=utf-8
//   GET /json/list -> 200 [{"message":"Hello, World! #1"}, … #100]: 100 messages serialized per request;
//                     with KESTREL_COMPRESSION=1 gzip (Fastest) when asked (bench/compress.sh)
//   any /anything  -> 200 the request echoed as JSON, httpbin-style (method, url, args,
//                     headers, data, origin), as `eddy serve` does; the body is read, so
//                     Kestrel's minimum request body data rate applies (the slow-POST soak)
//   POST /upload   -> 200 {"bytes":N} (application/json): the body read to its end as it arrives
//                     (Request.Body, 64 KiB reads) and counted, never kept, as `eddy serve`'s
//                     /upload does (bench/upload.sh, bench/soak.sh upload); no body size limit on
//                     this route (IHttpMaxRequestBodySizeFeature), as eddy's
//   POST /multipart -> 200 {"files":[{"name","filename","size","sha256"}]}: a multipart/form-data body read
//                     part by part with MultipartReader (Microsoft.AspNetCore.WebUtilities), each file
//                     hashed as it streams in and never kept, as `eddy serve`'s /anything lists files
//                     (bench/upload.sh MULTIPART=1); no body size limit on this route
//   GET /static/…  -> files from STATIC_DIR, if given (UseStaticFiles; the slow-read soak)
//   GET /ws        -> a WebSocket echo (UseWebSockets, the standard ReceiveAsync/SendAsync loop of
//                     the ASP.NET Core docs, 16 KiB buffer): every message back with its type, as
//                     `eddy serve`'s /ws/echo (bench/ws.sh)
// Environment: KESTREL_MAX_CONNECTIONS=N sets Limits.MaxConcurrentConnections (default
// unlimited; the connection-limit soak). Kestrel does not read its Limits from configuration.
// KESTREL_TLS_CERT=FILE and KESTREL_TLS_KEY=FILE (PEM) serve HTTPS instead of HTTP on the port
// (ListenOptions.UseHttps with that certificate; Kestrel's defaults otherwise: TLS 1.2/1.3, ALPN
// http/1.1 only as HttpProtocols is Http1; bench/tls.sh).
// as TechEmpower's ASP.NET Core "minimal" entry does: WebApplication.CreateBuilder,
// logging providers cleared, MapGet endpoints returning Results.Text and a JSON
// result serialized with a source-generated JsonSerializerContext. Kestrel adds
// the Server ("Kestrel") and Date (refreshed once per second) headers itself.
// Prints "kestrel listening on http(s)://127.0.0.1:PORT" once the server has started.
// Exits on SIGTERM/SIGINT (the generic host's default console lifetime).

using System.Net;
using System.Text.Json.Serialization;
using KestrelMinimal;

if (args.Length is < 1 or > 2 || !int.TryParse(args[0], out int port) || port is < 1 or > 65535)
{
    Console.Error.WriteLine("usage: KestrelMinimal PORT [STATIC_DIR]");
    return 2;
}
string? staticDir = args.Length == 2 ? Path.GetFullPath(args[1]) : null;
if (staticDir is not null && !Directory.Exists(staticDir))
{
    Console.Error.WriteLine($"KestrelMinimal: no folder {staticDir}");
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
    string? tlsCert = Environment.GetEnvironmentVariable("KESTREL_TLS_CERT");
    string? tlsKey = Environment.GetEnvironmentVariable("KESTREL_TLS_KEY");
    options.Listen(IPAddress.Loopback, port, listen =>
    {
        if (tlsCert is not null && tlsKey is not null)
        {
            listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1; // as eddy: ALPN http/1.1
            listen.UseHttps(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(tlsCert, tlsKey));
        }
    });
    if (long.TryParse(Environment.GetEnvironmentVariable("KESTREL_MAX_CONNECTIONS"), out long maxConnections))
    {
        options.Limits.MaxConcurrentConnections = maxConnections;
    }
});

// KESTREL_COMPRESSION=1: ASP.NET Core's response compression, gzip at Fastest (bench/compress.sh; off elsewhere, as
// the middleware would add Vary to the other benchmarks' answers).
bool compression = Environment.GetEnvironmentVariable("KESTREL_COMPRESSION") == "1";
if (compression)
{
    builder.Services.AddResponseCompression(options => options.Providers.Add<Microsoft.AspNetCore.ResponseCompression.GzipCompressionProvider>());
    builder.Services.Configure<Microsoft.AspNetCore.ResponseCompression.GzipCompressionProviderOptions>(options => options.Level = System.IO.Compression.CompressionLevel.Fastest);
}

var app = builder.Build();
if (compression)
{
    app.UseResponseCompression();
}

const string HelloWorld = "Hello, World!";

app.MapGet("/plaintext", () => Results.Text(HelloWorld, "text/plain"));

app.MapGet("/json", () => TypedResults.Json(new JsonMessage { Message = HelloWorld }, AppJsonContext.Default.JsonMessage));

// As `eddy serve`'s /json/list: 100 messages, serialized per request (bench/compress.sh).
JsonMessage[] list = [.. Enumerable.Range(1, 100).Select(i => new JsonMessage { Message = $"Hello, World! #{i}" })];
app.MapGet("/json/list", () => TypedResults.Json(list, AppJsonContext.Default.JsonMessageArray));

app.Map("/anything/{**rest}", async (HttpContext context) =>
{
    HttpRequest request = context.Request;
    using var reader = new StreamReader(request.Body, System.Text.Encoding.UTF8);
    string data = await reader.ReadToEndAsync(context.RequestAborted);
    var echo = new AnythingEcho
    {
        Method = request.Method,
        Url = request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? request.Path + request.QueryString,
        Args = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()),
        Headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString()),
        Data = data,
        Origin = context.Connection.RemoteIpAddress?.ToString() ?? "",
    };
    return TypedResults.Json(echo, AppJsonContext.Default.AnythingEcho);
});

// As `eddy serve`'s POST /upload: the body read to its end as it streams in, counted, not kept.
app.MapPost("/upload", async (HttpContext context) =>
{
    // No body limit on this route, as eddy's (which sets HttpRequest.MaxBodySize = null).
    context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = null;
    byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
    long bytes = 0;
    try
    {
        int n;
        while ((n = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            bytes += n;
        }
    }
    finally
    {
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
    }
    return TypedResults.Json(new UploadCount { Bytes = bytes }, AppJsonContext.Default.UploadCount);
});

// As `eddy serve`'s /anything with a multipart body: each file's size and SHA-256, hashed as it streams in.
app.MapPost("/multipart", async (HttpContext context) =>
{
    context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = null;
    var mediaType = Microsoft.Net.Http.Headers.MediaTypeHeaderValue.Parse(context.Request.ContentType);
    string boundary = Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value!;
    var reader = new Microsoft.AspNetCore.WebUtilities.MultipartReader(boundary, context.Request.Body);
    var files = new List<FileSummary>();
    byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
    try
    {
        while (await reader.ReadNextSectionAsync(context.RequestAborted) is { } section)
        {
            var disposition = Microsoft.Net.Http.Headers.ContentDispositionHeaderValue.Parse(section.ContentDisposition);
            using var sha256 = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            long size = 0;
            int n;
            while ((n = await section.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                size += n;
                sha256.AppendData(buffer, 0, n);
            }
            if (disposition.FileName.HasValue)
            {
                files.Add(new FileSummary
                {
                    Name = disposition.Name.Value ?? "",
                    Filename = Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(disposition.FileName).Value ?? "",
                    Size = size,
                    Sha256 = Convert.ToHexStringLower(sha256.GetHashAndReset()),
                });
            }
        }
    }
    finally
    {
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
    }
    return TypedResults.Json(new MultipartSummary { Files = files }, AppJsonContext.Default.MultipartSummary);
});

// As the ASP.NET Core WebSockets docs' echo: UseWebSockets, then ReceiveAsync/SendAsync until the close.
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
app.Map("/ws", async (HttpContext context) =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = 400;
        return;
    }
    using System.Net.WebSockets.WebSocket webSocket = await context.WebSockets.AcceptWebSocketAsync();
    byte[] buffer = new byte[16 * 1024];
    var received = await webSocket.ReceiveAsync(new ArraySegment<byte>(buffer), CancellationToken.None);
    while (!received.CloseStatus.HasValue)
    {
        await webSocket.SendAsync(new ArraySegment<byte>(buffer, 0, received.Count), received.MessageType, received.EndOfMessage, CancellationToken.None);
        received = await webSocket.ReceiveAsync(new ArraySegment<byte>(buffer), CancellationToken.None);
    }
    await webSocket.CloseAsync(received.CloseStatus.Value, received.CloseStatusDescription, CancellationToken.None);
});

if (staticDir is not null)
{
    app.UseStaticFiles(new StaticFileOptions
    {
        FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(staticDir),
        RequestPath = "/static",
        ServeUnknownFileTypes = true,
    });
}

app.Lifetime.ApplicationStarted.Register(() =>
{
    Console.WriteLine($"kestrel listening on {(Environment.GetEnvironmentVariable("KESTREL_TLS_CERT") is null ? "http" : "https")}://127.0.0.1:{port}");
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

    /// <summary>The httpbin-style echo of /anything.</summary>
    public sealed class AnythingEcho
    {
        public required string Method { get; init; }
        public required string Url { get; init; }
        public required Dictionary<string, string> Args { get; init; }
        public required Dictionary<string, string> Headers { get; init; }
        public required string Data { get; init; }
        public required string Origin { get; init; }
    }

    /// <summary>The answer of POST /upload: {"bytes":N}.</summary>
    public sealed class UploadCount
    {
        public required long Bytes { get; init; }
    }

    /// <summary>One file of a multipart upload: its field and file names, size and SHA-256 (hex).</summary>
    public sealed class FileSummary
    {
        public required string Name { get; init; }
        public required string Filename { get; init; }
        public required long Size { get; init; }
        public required string Sha256 { get; init; }
    }

    /// <summary>The answer of POST /multipart: {"files":[...]}.</summary>
    public sealed class MultipartSummary
    {
        public required List<FileSummary> Files { get; init; }
    }

    /// <summary>Source-generated serializer for the responses (camelCase: {"message":...}).</summary>
    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
    [JsonSerializable(typeof(JsonMessage))]
    [JsonSerializable(typeof(JsonMessage[]))]
    [JsonSerializable(typeof(MultipartSummary))]
    [JsonSerializable(typeof(AnythingEcho))]
    [JsonSerializable(typeof(UploadCount))]
    internal sealed partial class AppJsonContext : JsonSerializerContext;
}
