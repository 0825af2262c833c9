using System.Diagnostics;
using Eddy.Cli.Serve;

namespace Eddy.FunctionalTests.Http;

/// <summary>The demo with <c>curl --compressed</c>: the home page and static files come compressed, the TechEmpower routes never.</summary>
public sealed class CompressionDemoTests : IDisposable
{
    private readonly HttpTestServer _server = new(DemoApp.Create(DemoApp.DefaultStaticFolder));

    public void Dispose() => _server.Dispose();

    private static async Task<(string Headers, string Body)> CurlAsync(params string[] args)
    {
        string headers = Path.GetTempFileName();
        try
        {
            var start = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string arg in (string[])["-sS", "--max-time", "10", "-D", headers, .. args])
            {
                start.ArgumentList.Add(arg);
            }
            using Process curl = Process.Start(start)!;
            Task<string> body = curl.StandardOutput.ReadToEndAsync();
            string errors = await curl.StandardError.ReadToEndAsync();
            await curl.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.True(curl.ExitCode == 0, $"curl exited {curl.ExitCode}: {errors}");
            return (await File.ReadAllTextAsync(headers), await body);
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
