using System.IO.Compression;
using System.Net;
using System.Text;
using Eddy.Web;

namespace Eddy.FunctionalTests.Http;

/// <summary>Static files with a precompressed <c>.br</c>/<c>.gz</c> beside them: chosen by Accept-Encoding, never for a range.</summary>
public sealed class PrecompressedStaticFilesTests : IDisposable
{
    private static readonly string Css = string.Concat(Enumerable.Repeat("body { color: #333; margin: 0 auto; }\n", 100));
    private readonly string _folder = Directory.CreateTempSubdirectory("eddy-precompressed-").FullName;
    private readonly HttpTestServer _server;
    private readonly HttpClient _client = new(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None }) { Timeout = TimeSpan.FromSeconds(10) };

    public PrecompressedStaticFilesTests()
    {
        File.WriteAllText(Path.Combine(_folder, "site.css"), Css);
        File.WriteAllBytes(Path.Combine(_folder, "site.css.gz"), Compress(Css, s => new GZipStream(s, CompressionLevel.SmallestSize)));
        File.WriteAllBytes(Path.Combine(_folder, "site.css.br"), Compress(Css, s => new BrotliStream(s, CompressionLevel.SmallestSize)));
        File.WriteAllText(Path.Combine(_folder, "app.js"), Css);
        File.WriteAllBytes(Path.Combine(_folder, "app.js.gz"), Compress(Css, s => new GZipStream(s, CompressionLevel.SmallestSize)));
        File.WriteAllText(Path.Combine(_folder, "plain.txt"), Css);
        _server = new HttpTestServer(new WebApp().UseStaticFiles("/static", _folder));
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static byte[] Compress(string text, Func<Stream, Stream> encoder)
    {
        using var output = new MemoryStream();
        using (Stream stream = encoder(output))
        {
            stream.Write(Encoding.UTF8.GetBytes(text));
        }
        return output.ToArray();
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string? acceptEncoding, string? range = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, _server.Url(path));
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }
        if (range is not null)
        {
            request.Headers.TryAddWithoutValidation("Range", range);
        }
        return await _client.SendAsync(request);
    }

    [Theory]
    [InlineData("/static/site.css", "gzip, br", "br", ".br")]
    [InlineData("/static/site.css", "gzip", "gzip", ".gz")]
    [InlineData("/static/site.css", "br;q=0.5, gzip", "gzip", ".gz")]
    [InlineData("/static/site.css", null, null, "")]
    [InlineData("/static/site.css", "br;q=0, gzip;q=0", null, "")]
    [InlineData("/static/app.js", "br", null, "")]       // only a .gz beside it, and gzip not accepted
    [InlineData("/static/app.js", "br, gzip", "gzip", ".gz")]
    public async Task TheSiblingTheClientAcceptsIsServedWithTheOriginalsType(string path, string? acceptEncoding, string? coding, string suffix)
    {
        using HttpResponseMessage response = await GetAsync(path, acceptEncoding);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(coding is null ? [] : [coding], response.Content.Headers.ContentEncoding);
        Assert.Equal(path.EndsWith(".css") ? "text/css" : "text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        string onDisk = Path.Combine(_folder, Path.GetFileName(path) + suffix);
        Assert.Equal(await File.ReadAllBytesAsync(onDisk), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task EachRepresentationHasItsOwnETagAndRevalidates()
    {
        using HttpResponseMessage identity = await GetAsync("/static/site.css", null);
        using HttpResponseMessage brotli = await GetAsync("/static/site.css", "br");
        Assert.NotEqual(identity.Headers.ETag, brotli.Headers.ETag);
        var request = new HttpRequestMessage(HttpMethod.Get, _server.Url("/static/site.css"));
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "br");
        request.Headers.TryAddWithoutValidation("If-None-Match", brotli.Headers.ETag!.ToString());
        using HttpResponseMessage again = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
    }

    [Fact]
    public async Task ARangeIsServedFromTheFileItself()
    {
        using HttpResponseMessage response = await GetAsync("/static/site.css", "br, gzip", "bytes=0-3");
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal("body", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AFileWithoutSiblingsHasNoVary()
    {
        using HttpResponseMessage response = await GetAsync("/static/plain.txt", "br, gzip");
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.DoesNotContain("Accept-Encoding", response.Headers.Vary);
    }
}
