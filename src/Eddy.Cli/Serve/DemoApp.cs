using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Eddy.Http;
using Eddy.Http.Parsing;
using Eddy.Web;
using Eddy.Web.Forms;
using Eddy.WebSockets;

namespace Eddy.Cli.Serve;

/// <summary>The message of the TechEmpower JSON test: a struct, so answering allocates no object.</summary>
internal readonly record struct Greeting([property: JsonPropertyName("message")] string Message);

[JsonSerializable(typeof(Greeting))]
[JsonSerializable(typeof(Greeting[]))]
internal sealed partial class DemoJsonContext : JsonSerializerContext;

/// <summary>
/// The demo web app of <c>eddy serve</c>: a home page, the TechEmpower plaintext and JSON tests, an
/// httpbin-style <c>/anything</c> echo, a streaming <c>/upload</c>, and static files.
/// </summary>
internal static class DemoApp
{
    private static readonly Greeting s_greeting = new("Hello, World!");

    // /json/list: a larger JSON answer (100 greetings, ~3.3 KB), serialized per request: what compression is for.
    private static readonly Greeting[] s_greetings = [.. Enumerable.Range(1, 100).Select(i => new Greeting($"Hello, World! #{i}"))];

    public static WebApp Create(string staticFolder) => Map(new WebApp(), staticFolder);

    /// <summary>Adds the demo's routes to <paramref name="app"/> (after any middleware the caller added first).</summary>
    public static WebApp Map(WebApp app, string staticFolder)
    {
        // brotli/gzip when asked, for everything but the TechEmpower tests, whose rules want them uncompressed (and whose
        // answers stay the cached heads they are).
        app.UseResponseCompression(new ResponseCompressionOptions
        {
            RequestFilter = static context => !IsTechEmpowerRoute(HttpTarget.PathBytes(context.Request.TargetBytes)),
        });
        app.MapGet("/", Home);
        app.MapGet("/plaintext", context => context.Response.Text("Hello, World!"));
        app.MapGet("/json", context => context.Response.Json(new Greeting("Hello, World!"), DemoJsonContext.Default.Greeting));
        app.MapGet("/json/list", context => context.Response.Json(s_greetings, DemoJsonContext.Default.GreetingArray));
        app.MapAny("/anything", Anything);
        app.MapAny("/anything/{*rest}", Anything);
        app.MapPost("/upload", Upload);
        app.MapGet("/sse", DemoClock.StreamAsync);
        app.MapWebSocket("/ws/echo", EchoAsync, s_echoOptions);
        new ChatRoom().Map(app); // /chat and /ws/chat (ChatRoom.cs)
        app.UseStaticFiles("/static", staticFolder);
        GC.KeepAlive(s_greeting);
        return app;
    }

    /// <summary>/plaintext or /json, read from the request's bytes (no string per request: those two allocate nothing).</summary>
    private static bool IsTechEmpowerRoute(ReadOnlySpan<byte> path) => path.SequenceEqual("/plaintext"u8) || path.SequenceEqual("/json"u8);

    /// <summary>
    /// <c>/ws/echo</c>'s settings: one subprotocol, <c>echo</c> (chosen when the client offers it anywhere in its list,
    /// else none is named in the answer), permessage-deflate when the client offers it, and messages up to 32 MiB (a
    /// frame header that declares more fails the connection with 1009 at once; a compressed message, as it inflates).
    /// </summary>
    private static readonly WebSocketOptions s_echoOptions = new()
    {
        SubProtocols = ["echo"],
        MaxMessageSize = 32 * 1024 * 1024,
        Compression = new WebSocketCompressionOptions(),
    };

    /// <summary>The folder of static files shipped with the demo (copied next to the binary).</summary>
    public static string DefaultStaticFolder => Path.Combine(AppContext.BaseDirectory, "wwwroot");

    /// <summary>
    /// <c>/ws/echo</c>: every message sent back with its type and payload. A message is echoed as it arrives, a
    /// piece at a time (each piece one frame of the answer), so a 32 MiB message costs a 16 KiB buffer, not 32 MiB;
    /// while the client does not read its echoes, the sends wait, the receives stop, and TCP slows the client. Between
    /// messages the handler waits with a zero-byte receive and holds no buffer: an idle connection costs none.
    /// </summary>
    private static async ValueTask EchoAsync(HttpContext context, WebSocketConnection webSocket)
    {
        while (true)
        {
            ValueWebSocketReceiveResult next = await webSocket.ReceiveAsync(Memory<byte>.Empty); // a message is coming
            if (next.MessageType == WebSocketMessageType.Close)
            {
                return; // the peer's close was answered for us
            }
            if (next.EndOfMessage)
            {
                await webSocket.SendAsync(ReadOnlyMemory<byte>.Empty, next.MessageType, endOfMessage: true); // an empty message
                continue;
            }
            byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                ValueWebSocketReceiveResult received;
                do
                {
                    received = await webSocket.ReceiveAsync(buffer);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }
                    await webSocket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage);
                }
                while (!received.EndOfMessage);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static void Home(HttpContext context)
    {
        const string page = """
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><title>Eddy</title><link rel="stylesheet" href="/static/style.css"></head>
            <body>
            <h1>Eddy</h1>
            <p>An event-loop HTTP/1.1 server for .NET, serving this page from one event loop per core.</p>
            <ul>
              <li><a href="/plaintext">/plaintext</a> — <code>Hello, World!</code> as text/plain (the TechEmpower plaintext test)</li>
              <li><a href="/json">/json</a> — <code>{"message":"Hello, World!"}</code> (the TechEmpower JSON test)</li>
              <li><a href="/json/list">/json/list</a> — 100 such messages (~3.3 KB of JSON, compressed when asked)</li>
              <li><a href="/anything?x=1">/anything</a> — any method: the request echoed back as JSON, httpbin-style</li>
              <li><code>POST /upload</code> — an upload of any size, read as it streams in and kept nowhere: <code>{"bytes": N}</code>, with <code>?sha256=1</code> its SHA-256 too</li>
              <li><a href="/sse">/sse</a> — Server-Sent Events: a <code>clock</code> event every second (<code>curl -N</code>)</li>
              <li><code>/ws/echo</code> — a WebSocket echo: every message back with its type (subprotocol <code>echo</code>, permessage-deflate, messages up to 32 MiB)</li>
              <li><a href="/chat">/chat</a> — a chat room: every message goes to everyone connected, on any loop (<code>/ws/chat</code>)</li>
              <li><a href="/static/">/static/</a> — files from the <code>--static</code> folder</li>
            </ul>
            <p>Try <code>curl -F name=value -b 'a=1' http://127.0.0.1:8080/anything/path?q=1</code>.</p>
            </body>
            </html>
            """;
        context.Response.Text(page, "text/html; charset=utf-8");
    }

    /// <summary>
    /// httpbin's /anything: method, scheme (http or https), the request-target exactly as received, headers (names as received;
    /// a repeated name, compared case-insensitively, joined with ", " under its first spelling), the body
    /// as UTF-8 (invalid bytes become U+FFFD), the decoded query as args, the request's cookies, the client's address, and over
    /// HTTPS the TLS version, cipher suite, ALPN protocol and the name the client asked for (SNI). A form body
    /// (urlencoded or multipart) is given as <c>form</c> (a repeated name as an array) and <c>files</c> (name, filename,
    /// size and SHA-256 of each file, hashed as it streams in, never held whole) instead of <c>data</c>.
    /// </summary>
    private static async ValueTask Anything(HttpContext context)
    {
        HttpRequest request = context.Request;
        (string data, List<KeyValuePair<string, string>> form, List<FileSummary> files) = await ReadBodyAsync(request);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("method", request.Method);
            json.WriteString("scheme", request.Scheme);
            json.WriteString("url", request.RawTarget);
            json.WriteStartObject("args");
            foreach (KeyValuePair<string, string> arg in request.Query)
            {
                json.WriteString(arg.Key, arg.Value);
            }
            json.WriteEndObject();
            json.WriteStartObject("headers");
            foreach ((string name, string value) in JoinedHeaders(request.Headers))
            {
                json.WriteString(name, value);
            }
            json.WriteEndObject();
            json.WriteString("data", data);
            json.WriteStartObject("cookies");
            foreach (KeyValuePair<string, string> cookie in request.Cookies)
            {
                json.WriteString(cookie.Key, cookie.Value);
            }
            json.WriteEndObject();
            WriteForm(json, form);
            json.WriteStartArray("files");
            foreach (FileSummary file in files)
            {
                json.WriteStartObject();
                json.WriteString("name", file.Name);
                json.WriteString("filename", file.FileName);
                json.WriteString("content_type", file.ContentType);
                json.WriteNumber("size", file.Size);
                json.WriteString("sha256", file.Sha256);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteString("origin", (request.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "");
            if (request.Tls is { } tls)
            {
                json.WriteStartObject("tls");
                json.WriteString("version", CommandLine.TlsVersionName(tls.TlsVersion));
                json.WriteString("cipher", tls.CipherSuite.ToString());
                json.WriteString("alpn", tls.NegotiatedApplicationProtocol.ToString());
                json.WriteString("sni", tls.HostName);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        context.Response.Bytes(buffer.WrittenSpan, "application/json");
    }

    private readonly record struct FileSummary(string Name, string FileName, string? ContentType, long Size, string Sha256);

    /// <summary>/anything's body: as text, or for a form its fields and its files (hashed as they stream in).</summary>
    private static async ValueTask<(string Data, List<KeyValuePair<string, string>> Form, List<FileSummary> Files)> ReadBodyAsync(HttpRequest request)
    {
        string contentType = request.Headers["Content-Type"] ?? "";
        var files = new List<FileSummary>();
        if (contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return ("", [.. (await request.ReadFormAsync()).Fields], files);
        }
        if (!contentType.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return (await request.ReadTextAsync(), [], files);
        }
        var form = new List<KeyValuePair<string, string>>();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            await foreach (MultipartSection part in request.ReadMultipartAsync())
            {
                using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                using var field = part.IsFile ? null : new MemoryStream();
                long size = 0;
                int n;
                while ((n = await part.Body.ReadAsync(buffer)) > 0)
                {
                    size += n;
                    if (field is not null)
                    {
                        if (size > FormOptions.Default.MaxFieldSize)
                        {
                            throw new Http.Parsing.HttpRejectException(Http.Parsing.HttpRejectReason.FormTooLarge, $"Form data too large: a field is over {FormOptions.Default.MaxFieldSize} bytes.");
                        }
                        field.Write(buffer, 0, n);
                    }
                    else
                    {
                        sha256.AppendData(buffer, 0, n);
                    }
                }
                if (field is not null)
                {
                    form.Add(new(part.Name, Encoding.UTF8.GetString(field.GetBuffer(), 0, (int)field.Length)));
                }
                else
                {
                    files.Add(new FileSummary(part.Name, part.FileName!, part.ContentType, size, Convert.ToHexStringLower(sha256.GetHashAndReset())));
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return ("", form, files);
    }

    /// <summary>The fields as a JSON object: one value as a string, a repeated name as an array (as httpbin).</summary>
    private static void WriteForm(Utf8JsonWriter json, List<KeyValuePair<string, string>> form)
    {
        json.WriteStartObject("form");
        foreach (IGrouping<string, string> field in form.GroupBy(f => f.Key, f => f.Value))
        {
            if (field.Count() == 1)
            {
                json.WriteString(field.Key, field.First());
                continue;
            }
            json.WriteStartArray(field.Key);
            foreach (string value in field)
            {
                json.WriteStringValue(value);
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    /// <summary>
    /// Takes an upload of any size as it streams in, keeping none of it: answers <c>{"bytes": N}</c>, and with
    /// <c>?sha256=1</c> also the body's SHA-256 (<c>"sha256": "hex"</c>). The body limit is lifted for this route.
    /// </summary>
    private static async ValueTask Upload(HttpContext context)
    {
        HttpRequest request = context.Request;
        request.MaxBodySize = null;
        bool hash = request.Query.TryGetValue("sha256", out string? wanted) && wanted is "1" or "true";
        using IncrementalHash? sha256 = hash ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        long total = 0;
        try
        {
            int n;
            while ((n = await request.Body.ReadAsync(buffer)) > 0)
            {
                total += n;
                sha256?.AppendData(buffer, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        var answer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(answer))
        {
            json.WriteStartObject();
            json.WriteNumber("bytes", total);
            if (sha256 is not null)
            {
                json.WriteString("sha256", Convert.ToHexStringLower(sha256.GetHashAndReset()));
            }
            json.WriteEndObject();
        }
        context.Response.Bytes(answer.WrittenSpan, "application/json");
    }

    private static List<(string Name, string Value)> JoinedHeaders(HttpRequestHeaders headers)
    {
        var joined = new List<(string Name, string Value)>();
        var index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < headers.Count; i++)
        {
            string name = headers.NameAt(i);
            string value = headers.ValueAt(i);
            if (index.TryGetValue(name, out int at))
            {
                joined[at] = (joined[at].Name, joined[at].Value + ", " + value);
            }
            else
            {
                index[name] = joined.Count;
                joined.Add((name, value));
            }
        }
        return joined;
    }
}
