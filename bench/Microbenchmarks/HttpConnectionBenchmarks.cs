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
    private HttpConnection _connection = null!;
    private byte[] _batch = [];
    private readonly CountingTransport _transport = new();

    [Params("/plaintext", "/json")]
    public string Path { get; set; } = "/plaintext";

    [GlobalSetup]
    public void Setup()
    {
        RequestHandler app = new WebApp()
            .MapGet("/plaintext", context => context.Response.Text("Hello, World!"))
            .MapGet("/json", context => context.Response.Json(new Greeting("Hello, World!"), BenchJsonContext.Default.Greeting))
            .MapAny("/anything/{*rest}", context => context.Response.Text("other"))
            .Build();
        _connection = new HttpConnection(_loop, app, new HttpServerOptions(), new HttpHeartbeat(_loop));
        _transport.Protocol = _connection;
        _connection.ConnectionMade(_transport);
        _batch = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"GET {Path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n", Pipeline)));
        _connection.DataReceived(_batch);
        if (!Encoding.ASCII.GetString(_transport.Last).StartsWith("HTTP/1.1 200 OK", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The app did not answer 200: " + Encoding.ASCII.GetString(_transport.Last));
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _loop.Dispose();

    [Benchmark(OperationsPerInvoke = Pipeline)]
    public int PipelinedBatch()
    {
        _connection.DataReceived(_batch);
        return _transport.BytesWritten;
    }

    /// <summary>A transport that keeps nothing: it only counts what the connection writes.</summary>
    private sealed class CountingTransport : Transport
    {
        public int BytesWritten;
        public byte[] Last = [];

        public override Protocol Protocol { get; set; } = null!;

        public override void Write(ReadOnlySpan<byte> data)
        {
            BytesWritten += data.Length;
            if (Last.Length == 0)
            {
                Last = data.ToArray();
            }
        }

        public override void WriteEof() => throw new NotSupportedException();

        public override void Close() => throw new InvalidOperationException("The benchmark's connection was closed.");

        public override void Abort() => Close();

        public override bool IsClosing => false;

        public override void PauseReading() => throw new InvalidOperationException("The benchmark's connection paused reading.");

        public override void ResumeReading()
        {
        }

        public override bool IsReading => true;

        public override int WriteBufferSize => 0;

        public override int WriteBufferHighWaterMark => 64 * 1024;

        public override int WriteBufferLowWaterMark => 16 * 1024;

        public override void SetWriteBufferLimits(int high, int? low = null)
        {
        }

        public override EndPoint? LocalEndPoint => null;

        public override EndPoint? RemoteEndPoint => null;
    }
}
