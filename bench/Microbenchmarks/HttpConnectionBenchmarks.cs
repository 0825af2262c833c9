using System.Net;
using System.Text;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;
using Eddy.Http;
using Eddy.Http.Internal;
using Eddy.Loop;
using Eddy.Transports;
using Eddy.Web;

namespace Eddy.Microbenchmarks;

internal readonly record struct Greeting([property: JsonPropertyName("message")] string Message);

[JsonSerializable(typeof(Greeting))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;

/// <summary>
/// One connection's whole per-request path without the kernel: a read of 16 pipelined requests (what
/// <c>wrk -s pipeline.lua -- 16</c> sends) parsed, routed, answered and flushed as one write, as
/// <c>eddy serve</c>'s /plaintext and /json do. Divide by 16 for the cost of one request.
/// </summary>
[MemoryDiagnoser]
public class HttpConnectionBenchmarks
{
    private const int Pipeline = 16;
    private readonly EventLoop _loop = new();
    private HttpConnection[] _connections = [];
    private int _next;
    private byte[] _batch = [];
    private CountingTransport _transport = null!;

    [Params("/plaintext", "/json")]
    public string Path { get; set; } = "/plaintext";

    /// <summary>
    /// Connections served in turn, as the server serves wrk's 64: each has its own objects and buffers, so
    /// with more than one the figure includes the cache misses of moving between them (the input buffer is
    /// one, as the loop's shared read buffer is).
    /// </summary>
    [Params(1, 64)]
    public int Connections { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        RequestHandler app = new WebApp()
            .MapGet("/plaintext", context => context.Response.Text("Hello, World!"))
            .MapGet("/json", context => context.Response.Json(new Greeting("Hello, World!"), BenchJsonContext.Default.Greeting))
            .MapAny("/anything/{*rest}", context => context.Response.Text("other"))
            .Build();
        var options = new HttpServerOptions();
        var heartbeat = new HttpHeartbeat(_loop);
        _batch = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"GET {Path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n", Pipeline)));
        _connections = new HttpConnection[Connections];
        for (int i = 0; i < _connections.Length; i++)
        {
            var connection = new HttpConnection(_loop, app, options, heartbeat);
            var transport = new CountingTransport { Protocol = connection };
            connection.ConnectionMade(transport);
            connection.DataReceived(_batch);
            if (!Encoding.ASCII.GetString(transport.Last).StartsWith("HTTP/1.1 200 OK", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("The app did not answer 200: " + Encoding.ASCII.GetString(transport.Last));
            }
            _connections[i] = connection;
            _transport = transport;
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _loop.Dispose();

    [Benchmark(OperationsPerInvoke = Pipeline)]
    public int PipelinedBatch()
    {
        HttpConnection connection = _connections[_next];
        _next = _next + 1 == _connections.Length ? 0 : _next + 1;
        connection.DataReceived(_batch);
        return _transport.BytesWritten;
    }
}
