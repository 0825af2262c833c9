using Eddy.Cli.Serve;
using Eddy.FunctionalTests.Cli;

namespace Eddy.FunctionalTests.Http;

/// <summary>The demo with <c>curl --compressed</c>: the home page and static files come compressed, the TechEmpower routes never.</summary>
public sealed class CompressionDemoTests : IDisposable
{
    private readonly HttpTestServer _server = new(DemoApp.Create(DemoApp.DefaultStaticFolder));

    public void Dispose() => _server.Dispose();

    /// <summary>curl (the suite's <see cref="TlsCliSupport.CurlAsync"/>) with the response's head written to a file: its head and body.</summary>
    private static async Task<(string Headers, string Body)> CurlAsync(params string[] args)
    {
        string headers = Path.GetTempFileName();
        try
        {
            string body = await TlsCliSupport.CurlAsync(["-D", headers, .. args]);
            return (await File.ReadAllTextAsync(headers), body);
        }
        finally
        {
            File.Delete(headers);
        }
    }

    [Theory]
    [InlineData("/", "br")]
    [InlineData("/static/index.html", "br")]
    public async Task CompressibleAnswersComeCompressedWhenAsked(string path, string coding)
    {
        (string headers, string body) = await CurlAsync("--compressed", $"http://{_server.EndPoint}{path}");
        Assert.Contains($"Content-Encoding: {coding}\r\n", headers);
        Assert.Contains("Vary: Accept-Encoding\r\n", headers);
        (string plainHeaders, string plainBody) = await CurlAsync($"http://{_server.EndPoint}{path}");
        Assert.DoesNotContain("Content-Encoding", plainHeaders);
        Assert.Equal(plainBody, body); // curl decoded it back to the same bytes
    }

    [Theory]
    [InlineData("/plaintext")]
    [InlineData("/json")]
    public async Task TheTechEmpowerRoutesAreNeverCompressed(string path)
    {
        (string headers, _) = await CurlAsync("--compressed", $"http://{_server.EndPoint}{path}");
        Assert.DoesNotContain("Content-Encoding", headers);
        Assert.DoesNotContain("Vary", headers);
    }
}
