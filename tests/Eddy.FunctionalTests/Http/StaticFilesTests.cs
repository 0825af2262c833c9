using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Eddy.FunctionalTests.Tls;
using Eddy.FunctionalTests.Transports;
using Eddy.Web;

namespace Eddy.FunctionalTests.Http;

/// <summary>
/// Static files: types, validators (304), ranges (206/416), no way out of the folder, and bodies sent with
/// sendfile on plain TCP (in order among pipelined answers, to a slow reader) or copied over TLS.
/// </summary>
public class StaticFilesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("eddy-static-").FullName;
    private readonly string _outside;
    private readonly HttpTestServer _server;
    private readonly HttpClient _client = new() { Timeout = TimeSpan.FromSeconds(20) };
    private readonly byte[] _big = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 31)).ToArray();
    private readonly byte[] _huge = TestData.Bytes(3 << 20, seed: 5);

    public StaticFilesTests()
    {
        File.WriteAllText(Path.Combine(_root, "hello.txt"), "hello, static\n");
        File.WriteAllText(Path.Combine(_root, "page.html"), "<p>hi</p>");
        File.WriteAllBytes(Path.Combine(_root, "big.bin"), _big);
        File.WriteAllBytes(Path.Combine(_root, "huge.bin"), _huge);
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
    public async Task PipelinedAnswersWithLargeFilesReachASlowReaderWholeAndInOrder()
    {
        // A small receive window: the file bodies cannot leave at once, so they wait in the transport between the
        // other answers of the batch.
        using Socket socket = await Client.ConnectAsync(_server.EndPoint, receiveBufferSize: 16 * 1024);
        await Client.SendAllAsync(socket, Encoding.ASCII.GetBytes(
            "GET /static/huge.bin HTTP/1.1\r\nHost: x\r\n\r\n" +
            "GET /static/hello.txt HTTP/1.1\r\nHost: x\r\n\r\n" +
            "GET /static/huge.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1000000-1999999\r\n\r\n" +
            "HEAD /static/huge.bin HTTP/1.1\r\nHost: x\r\n\r\n" +
            "GET /static/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));

        (byte[] stream, bool reset) = await Client.ReceiveToEndAsync(socket);

        Assert.False(reset);
        var answers = new List<(string Head, byte[] Body)>();
        int at = 0;
        while (at < stream.Length)
        {
            int end = stream.AsSpan(at).IndexOf("\r\n\r\n"u8);
            Assert.True(end >= 0, $"no complete head at byte {at}");
            string head = Encoding.ASCII.GetString(stream, at, end);
            at += end + 4;
            long length = long.Parse(head.Split("\r\n").Single(l => l.StartsWith("Content-Length: ", StringComparison.Ordinal))[16..]);
            int bodyLength = answers.Count == 3 ? 0 : (int)length; // the fourth answers a HEAD: the length, no body
            answers.Add((head, stream[at..(at + bodyLength)]));
            at += bodyLength;
        }
        Assert.Equal(5, answers.Count);
        Assert.StartsWith("HTTP/1.1 200 ", answers[0].Head);
        Assert.Equal(TestData.Hash(_huge), TestData.Hash(answers[0].Body));
        Assert.Equal("hello, static\n", Encoding.ASCII.GetString(answers[1].Body));
        Assert.StartsWith("HTTP/1.1 206 ", answers[2].Head);
        Assert.Equal(TestData.Hash(_huge.AsSpan(1_000_000, 1_000_000)), TestData.Hash(answers[2].Body));
        Assert.Contains($"Content-Length: {_huge.Length}\r\n", answers[3].Head + "\r\n");
        Assert.Equal(_big, answers[4].Body);
        Assert.Empty(_server.Errors);
    }

    [Fact]
    public async Task ALargeFileArrivesIntactOverTlsWhereItIsCopiedNotSentWithSendFile()
    {
        var app = new WebApp();
        app.UseStaticFiles("/static", _root);
        using var server = new HttpTestServer(app, tls: TlsTestCertificates.ServerOptions(["localhost"]));
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(20) };
        var ranged = new HttpRequestMessage(HttpMethod.Get, $"https://localhost:{server.EndPoint.Port}/static/huge.bin");
        ranged.Headers.Range = new RangeHeaderValue(5, 70_004);

        byte[] whole = await client.GetByteArrayAsync($"https://localhost:{server.EndPoint.Port}/static/huge.bin");
        using HttpResponseMessage part = await client.SendAsync(ranged);

        Assert.Equal(TestData.Hash(_huge), TestData.Hash(whole));
        Assert.Equal(_huge[5..70_005], await part.Content.ReadAsByteArrayAsync());
        Assert.Empty(server.Errors);
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
