using System.Text;
using BenchmarkDotNet.Attributes;
using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.Microbenchmarks;

/// <summary>The request-head parser alone, on the head wrk sends and on a browser-like head.</summary>
[MemoryDiagnoser]
public class HttpParserBenchmarks
{
    private readonly HttpParser _parser = new();
    private byte[] _head = [];

    [Params("wrk", "browser")]
    public string Head { get; set; } = "wrk";

    [GlobalSetup]
    public void Setup() => _head = Encoding.ASCII.GetBytes(Head == "wrk"
        ? "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
        : "GET /static/style.css?v=3 HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
          "Accept: text/css,*/*;q=0.1\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br, zstd\r\nConnection: keep-alive\r\n" +
          "Referer: http://localhost:8080/\r\nSec-Fetch-Dest: style\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Site: same-origin\r\nPriority: u=2\r\n\r\n");

    [Benchmark]
    public int ParseHead()
    {
        var handler = new CountingHandler();
        _parser.TryParseHead(_head, ref handler, out int consumed, out _);
        return consumed + handler.Fields;
    }

    private struct CountingHandler : IHttpRequestHandler
    {
        public int Fields;

        public void OnRequestLine(HttpRequestLine requestLine) => Fields++;

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Fields++;

        public void OnHeadersComplete(in HttpRequestHead head)
        {
        }
    }
}
