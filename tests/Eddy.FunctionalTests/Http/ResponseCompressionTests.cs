using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Eddy.FunctionalTests.Tls;
using Eddy.Http;
using Eddy.Web;

namespace Eddy.FunctionalTests.Http;

/// <summary>
/// app.UseResponseCompression on a real server: gzip and brotli round trips, Vary, what is never compressed, a
/// streamed body compressed as it streams, keep-alive after a compressed response, HTTPS off by default.
/// </summary>
public sealed class ResponseCompressionTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly string Big = string.Concat(Enumerable.Range(0, 200).Select(i => $"line {i}: the quick brown fox jumps over the lazy dog\n"));
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HttpTestServer _server;

    public ResponseCompressionTests()
    {
        _server = new HttpTestServer(App(new ResponseCompressionOptions()));
    }

    public void Dispose() => _server.Dispose();

    private WebApp App(ResponseCompressionOptions options)
    {
        var app = new WebApp();
        app.UseResponseCompression(options);
        app.MapGet("/text", ctx => ctx.Response.Text(Big));
        app.MapGet("/small", ctx => ctx.Response.Text("tiny"));
        app.MapGet("/png", ctx => ctx.Response.Bytes(Encoding.ASCII.GetBytes(Big), "image/png"));
        app.MapGet("/encoded", ctx =>
        {
            ctx.Response.Headers.Set("Content-Encoding", "gzip"); // the handler compressed it itself
            ctx.Response.Bytes(Gzip(Big), "text/plain");
        });
        app.MapGet("/nocontent", ctx => ctx.Response.StatusCode = 204);
        app.MapGet("/stream", async ctx =>
        {
            ctx.Response.ContentType = "text/plain";
            await ctx.Response.WriteAsync(Encoding.UTF8.GetBytes("first piece\n"));
            await _release.Task; // the client must see the first piece before the second is written
            await ctx.Response.WriteAsync(Encoding.UTF8.GetBytes(Big));
        });
        app.MapGet("/announced", async ctx =>
        {
            byte[] body = Encoding.UTF8.GetBytes(Big);
            ctx.Response.Headers.Set("ETag", "\"v1\"");
            ctx.Response.BeginBody(body.Length, "text/css");
            await ctx.Response.WriteAsync(body.AsMemory(0, 1000));
            await ctx.Response.WriteAsync(body.AsMemory(1000));
        });
        return app;
    }

    private static byte[] Gzip(string text)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }
        return output.ToArray();
    }

    private static HttpClient RawClient(Uri? baseAddress = null) => new(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None }) { Timeout = Timeout, BaseAddress = baseAddress };

    private static async Task<string> Decode(HttpResponseMessage response)
    {
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Stream decoder = response.Content.Headers.ContentEncoding.SingleOrDefault() switch
        {
            "gzip" => new GZipStream(new MemoryStream(body), CompressionMode.Decompress),
            "br" => new BrotliStream(new MemoryStream(body), CompressionMode.Decompress),
            null => new MemoryStream(body),
            string other => throw new InvalidOperationException($"unexpected coding {other}"),
        };
        using var reader = new StreamReader(decoder);
        return await reader.ReadToEndAsync();
    }

    private async Task<HttpResponseMessage> GetAsync(HttpClient client, string path, string? acceptEncoding, HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, _server.Url(path));
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }
        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    [Theory]
    [InlineData("gzip", "gzip")]
    [InlineData("br", "br")]
    [InlineData("gzip, br", "br")]
    [InlineData("br;q=0.1, gzip", "gzip")]
    public async Task AWholeBodyIsCompressedWithTheNegotiatedCodingAndItsCompressedLength(string acceptEncoding, string coding)
    {
        using HttpClient client = RawClient();
        for (int i = 0; i < 2; i++) // twice on one connection: keep-alive goes on after a compressed answer
        {
            using HttpResponseMessage response = await GetAsync(client, "/text", acceptEncoding);
            Assert.Equal(coding, Assert.Single(response.Content.Headers.ContentEncoding));
            Assert.Contains("Accept-Encoding", response.Headers.Vary);
            long? length = response.Content.Headers.ContentLength;
            Assert.NotNull(length);
            Assert.True(length < Encoding.UTF8.GetByteCount(Big) / 4, $"{length} bytes");
            Assert.Equal(Big, await Decode(response));
        }
        await _server.WaitForConnectionCountAsync(1);
    }

    [Fact]
    public async Task WithoutAnAcceptableCodingTheBodyGoesAsItIsWithVary()
    {
        using HttpClient client = RawClient();
        foreach (string? accept in (string?[])[null, "identity", "deflate", "gzip;q=0"])
        {
            using HttpResponseMessage response = await GetAsync(client, "/text", accept);
            Assert.Empty(response.Content.Headers.ContentEncoding);
            Assert.Contains("Accept-Encoding", response.Headers.Vary);
            Assert.Equal(Big, await response.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    [InlineData("/small")]     // below MinimumSize
    [InlineData("/png")]       // not a compressible type
    [InlineData("/encoded")]   // already has a Content-Encoding
    [InlineData("/nocontent")] // 204
    public async Task SomeResponsesAreNeverCompressed(string path)
    {
        using HttpClient client = RawClient();
        using HttpResponseMessage response = await GetAsync(client, path, "gzip, br");
        Assert.NotEqual("br", response.Content.Headers.ContentEncoding.SingleOrDefault());
        if (path == "/encoded")
        {
            Assert.Equal(Big, await Decode(response)); // untouched: still the handler's own gzip
        }
        else
        {
            Assert.Empty(response.Content.Headers.ContentEncoding);
        }
        if (path is "/png" or "/nocontent")
        {
            Assert.DoesNotContain("Accept-Encoding", response.Headers.Vary); // never compressible: nothing varies
        }
    }

    [Fact]
    public async Task AHeadRequestIsNotCompressed()
    {
        using HttpClient client = RawClient();
        using HttpResponseMessage response = await GetAsync(client, "/text", "gzip", HttpMethod.Head);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal(Encoding.UTF8.GetByteCount(Big), response.Content.Headers.ContentLength);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    public async Task AStreamedBodyIsCompressedAsItStreams(string coding)
    {
        using HttpClient client = RawClient();
        using HttpResponseMessage response = await GetAsync(client, "/stream", coding);
        Assert.Equal(coding, Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.True(response.Headers.TransferEncodingChunked);
        Stream body = await response.Content.ReadAsStreamAsync();
        Stream decoder = coding == "gzip" ? new GZipStream(body, CompressionMode.Decompress) : new BrotliStream(body, CompressionMode.Decompress);
        using var reader = new StreamReader(decoder);
        // The first piece decodes while the handler still waits: each write was flushed through the encoder.
        Assert.Equal("first piece", await reader.ReadLineAsync().WaitAsync(Timeout));
        _release.SetResult();
        Assert.Equal(Big, await reader.ReadToEndAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task AnAnnouncedBodyIsCompressedChunkedWithAWeakETag()
    {
        using HttpClient client = RawClient();
        using HttpResponseMessage response = await GetAsync(client, "/announced", "gzip");
        Assert.Equal("gzip", Assert.Single(response.Content.Headers.ContentEncoding));
        Assert.Null(response.Content.Headers.ContentLength);
        Assert.Equal("W/\"v1\"", response.Headers.ETag?.ToString()); // not the identity body's strong validator
        Assert.Equal(Big, await Decode(response));
    }

    [Fact]
    public async Task HttpsResponsesAreNotCompressedUnlessEnabled()
    {
        foreach (bool enabled in (bool[])[false, true])
        {
            using var server = new HttpTestServer(App(new ResponseCompressionOptions { EnableForHttps = enabled }), tls: TlsTestCertificates.ServerOptions(["localhost"]));
            var handler = new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None };
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            using var client = new HttpClient(handler) { Timeout = Timeout };
            var request = new HttpRequestMessage(HttpMethod.Get, $"https://localhost:{server.EndPoint.Port}/text");
            request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");
            using HttpResponseMessage response = await client.SendAsync(request);
            Assert.Equal(enabled ? ["gzip"] : [], response.Content.Headers.ContentEncoding);
            Assert.Equal(Big, await Decode(response));
        }
    }
}
