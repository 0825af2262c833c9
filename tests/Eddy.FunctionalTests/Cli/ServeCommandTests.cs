using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Eddy.FunctionalTests.Cli;

/// <summary><c>eddy serve</c> as a user runs it: started, asked with curl, stopped with SIGTERM.</summary>
public partial class ServeCommandTests
{
    [Fact]
    public async Task ServeAnswersCurlAndStopsGracefullyOnSigterm()
    {
        string apphost = Path.Combine(AppContext.BaseDirectory, "Eddy.Cli");
        var start = new ProcessStartInfo(apphost) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "serve", "--port", "0", "--loops", "2" })
        {
            start.ArgumentList.Add(arg);
        }
        using var server = Process.Start(start)!;
        try
        {
            string? line = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Match url = ListeningUrl().Match(line ?? "");
            Assert.True(url.Success, $"unexpected first line: {line}");
            string baseUrl = url.Groups[1].Value;

            Assert.Equal("Hello, World!", await CurlAsync($"-s {baseUrl}/plaintext"));
            Assert.Equal("""{"message":"Hello, World!"}""", await CurlAsync($"-s {baseUrl}/json"));
            Assert.Contains("\"data\": \"from curl\"", await CurlAsync($"-s -X POST -H 'Content-Type: text/plain' -d 'from curl' {baseUrl}/anything"));
            string head = await CurlAsync($"-sI {baseUrl}/plaintext");
            Assert.Contains("Content-Length: 13", head);
            Assert.Contains("Hello from Eddy", await CurlAsync($"-s --http1.0 {baseUrl}/static/hello.txt"));

            Process.Start("kill", ["-TERM", server.Id.ToString()])!.WaitForExit();
            await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(0, server.ExitCode);
            Assert.Contains("stopped", await server.StandardOutput.ReadToEndAsync());
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
            }
        }
    }

    private static async Task<string> CurlAsync(string arguments)
    {
        var start = new ProcessStartInfo("/bin/sh", ["-c", $"curl --max-time 10 {arguments}"]) { RedirectStandardOutput = true };
        using var curl = Process.Start(start)!;
        string output = await curl.StandardOutput.ReadToEndAsync();
        await curl.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.True(curl.ExitCode == 0, $"curl {arguments} exited {curl.ExitCode}");
        return output.Replace("\r\n", "\n").TrimEnd('\n');
    }

    [GeneratedRegex(@"listening on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningUrl();
}
