using System.Net;
using System.Net.Http.Headers;
using Eddy.Web;

namespace Eddy.FunctionalTests.Http;

/// <summary>Static files: types, validators (304), ranges (206/416), and no way out of the folder.</summary>
public class StaticFilesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("eddy-static-").FullName;
    private readonly string _outside;
    private readonly HttpTestServer _server;
    private readonly HttpClient _client = new() { Timeout = TimeSpan.FromSeconds(20) };
    private readonly byte[] _big = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 31)).ToArray();

    public StaticFilesTests()
    {
        File.WriteAllText(Path.Combine(_root, "hello.txt"), "hello, static\n");
        File.WriteAllText(Path.Combine(_root, "page.html"), "<p>hi</p>");
        File.WriteAllBytes(Path.Combine(_root, "big.bin"), _big);
        Directory.CreateDirectory(Path.Combine(_root, "sub"));
        File.WriteAllText(Path.Combine(_root, "sub", "index.html"), "<p>index</p>");
        _outside = Path.Combine(Path.GetDirectoryName(_root)!, $"eddy-secret-{Guid.NewGuid():N}.txt");
        File.WriteAllText(_outside, "secret");
        var app = new WebApp();
        app.UseStaticFiles("/static", _root);
        _server = new HttpTestServer(app);
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
        Directory.Delete(_root, recursive: true);
        File.Delete(_outside);
    }

    [Fact]
    public async Task FilesAreServedWithTheirContentTypeAndValidators()
    {
        using HttpResponseMessage text = await _client.GetAsync(_server.Url("/static/hello.txt"));
        using HttpResponseMessage html = await _client.GetAsync(_server.Url("/static/page.html"));
        using HttpResponseMessage index = await _client.GetAsync(_server.Url("/static/sub/"));

        Assert.Equal("hello, static\n", await text.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", text.Content.Headers.ContentType!.MediaType);
        Assert.Equal("text/html", html.Content.Headers.ContentType!.MediaType);
        Assert.NotNull(text.Headers.ETag);
        Assert.NotNull(text.Content.Headers.LastModified);
        Assert.Equal("<p>index</p>", await index.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ALargeFileArrivesIntact()
    {
        byte[] body = await _client.GetByteArrayAsync(_server.Url("/static/big.bin"));
        Assert.Equal(_big, body);
    }

    [Fact]
    public async Task AMatchingIfNoneMatchOrIfModifiedSinceGets304()
    {
        using HttpResponseMessage first = await _client.GetAsync(_server.Url("/static/hello.txt"));
        var byEtag = new HttpRequestMessage(HttpMethod.Get, _server.Url("/static/hello.txt"));
        byEtag.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        var byDate = new HttpRequestMessage(HttpMethod.Get, _server.Url("/static/hello.txt"));
        byDate.Headers.IfModifiedSince = first.Content.Headers.LastModified;
        var stale = new HttpRequestMessage(HttpMethod.Get, _server.Url("/static/hello.txt"));
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"other\""));

        using HttpResponseMessage etagResponse = await _client.SendAsync(byEtag);
        using HttpResponseMessage dateResponse = await _client.SendAsync(byDate);
        using HttpResponseMessage staleResponse = await _client.SendAsync(stale);

        Assert.Equal(HttpStatusCode.NotModified, etagResponse.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, dateResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, staleResponse.StatusCode);
    }

    [Fact]
    public async Task RangesGet206AndAnUnsatisfiableOne416()
    {
        var middle = new HttpRequestMessage(HttpMethod.Get, _server.Url("/static/big.bin"));
        middle.Headers.Range = new RangeHeaderValue(1000, 1999);
        var suffix = new HttpRequestMessage(HttpMethod.Get, _server.Url("/static/big.bin"));
        suffix.Headers.Range = new RangeHeaderValue(null, 10);
        var beyond = new HttpRequestMessage(HttpMethod.Get, _server.Url("/static/big.bin"));
        beyond.Headers.Range = new RangeHeaderValue(500_000, null);

        using HttpResponseMessage middleResponse = await _client.SendAsync(middle);
        using HttpResponseMessage suffixResponse = await _client.SendAsync(suffix);
        using HttpResponseMessage beyondResponse = await _client.SendAsync(beyond);

        Assert.Equal(HttpStatusCode.PartialContent, middleResponse.StatusCode);
        Assert.Equal(_big[1000..2000], await middleResponse.Content.ReadAsByteArrayAsync());
        Assert.Equal("bytes 1000-1999/300000", middleResponse.Content.Headers.ContentRange!.ToString());
        Assert.Equal(_big[^10..], await suffixResponse.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, beyondResponse.StatusCode);
        Assert.Equal("bytes */300000", beyondResponse.Content.Headers.ContentRange!.ToString());
    }

    [Theory]
    [InlineData("/static/../{0}")]
    [InlineData("/static/%2e%2e/{0}")]
    [InlineData("/static/%2E%2E%2F{0}")]
    [InlineData("/static/sub/..%2f..%2f{0}")]
    [InlineData("/static/%2f{1}")]
    [InlineData("/static/..%5c{0}")]
    [InlineData("/static/missing.txt")]
    public async Task PathsOutsideTheFolderAre404NotTheFileAndNot500(string template)
    {
        string target = string.Format(template, Path.GetFileName(_outside), _outside.TrimStart('/'));

        string raw = await _server.RawAsync($"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 404 ", raw);
        Assert.DoesNotContain("secret", raw);
        Assert.Empty(_server.Errors);
    }
}
