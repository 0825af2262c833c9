using System.Net;
using System.Text.Json;
using Eddy.FunctionalTests.Tls;
using Eddy.Loop;
using Eddy.Streams;
using Eddy.Transports;

namespace Eddy.FunctionalTests.Cli;

/// <summary>
/// <c>eddy load http https://…</c> against <c>eddy serve --tls-cert/--tls-key</c> (trusting the certificate with
/// <c>--cacert</c>, or not checking it with <c>--insecure</c>), a new connection per request over HTTPS and plain HTTP,
/// the errors a user can make, and <c>eddy load tcp --tls</c> against a TLS echo server.
/// </summary>
public sealed class LoadHttpsTests(CreatedCertificate certificate) : IClassFixture<CreatedCertificate>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task KeepAliveLoadOverHttpsWithCacertCountsEveryRequestAndReportsTheHandshakes()
    {
        using EddyServeProcess serve = await StartServeAsync();

        var (result, root) = await EddyCli.RunLoadHttpAsync(Timeout, $"https://localhost:{serve.HttpsPort}/plaintext",
            "-n", "300", "-c", "3", "--loops", "1", "--cacert", certificate.CertificatePath);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(300, root.GetProperty("requests").GetInt64());
        Assert.Equal(0, root.GetProperty("errors").GetInt64());
        Assert.Equal(300, root.GetProperty("statusCounts").GetProperty("200").GetInt64());
        Assert.Equal("https", root.GetProperty("scheme").GetString());
        Assert.Equal(3, root.GetProperty("connectionsOpened").GetInt64());
        Assert.Equal("TLSv1.3", root.GetProperty("tlsVersion").GetString());
        Assert.True(root.GetProperty("tlsHandshakeUs").GetProperty("p50").GetInt64() > 0);
        Assert.Contains("TLS handshake (TLSv1.3", result.Stdout);
        Assert.Contains("trusting --cacert only", result.Stdout);
        await StopAsync(serve);
    }

    [Fact]
    public async Task InsecureSkipsTheCertificateCheckAndNewConnectionPerRequestHandshakesForEachRequest()
    {
        using EddyServeProcess serve = await StartServeAsync();
        string html = Path.Combine(Path.GetTempPath(), $"eddy-load-{Guid.NewGuid():N}.html");
        try
        {
            var (result, root) = await EddyCli.RunLoadHttpAsync(Timeout, $"https://127.0.0.1:{serve.HttpsPort}/json",
                "-n", "60", "-c", "2", "--loops", "1", "--insecure", "--new-connection-per-request", "--html", html);

            Assert.Equal(0, result.ExitCode);
            Assert.Equal(60, root.GetProperty("requests").GetInt64());
            Assert.Equal(0, root.GetProperty("errors").GetInt64());
            Assert.True(root.GetProperty("newConnectionPerRequest").GetBoolean());
            Assert.Equal(60, root.GetProperty("connectionsOpened").GetInt64()); // one connection, one handshake, per request
            Assert.Equal(0, root.GetProperty("closedByServer").GetInt64());     // asked for: not counted as the server's doing
            Assert.True(root.GetProperty("connectionsPerSecond").GetDouble() > 0);
            Assert.True(root.GetProperty("tlsHandshakeUs").GetProperty("max").GetInt64() > 0);
            Assert.Contains("a new connection and TLS handshake per request", result.Stdout);
            Assert.Contains("TLS handshake", await File.ReadAllTextAsync(html));
        }
        finally
        {
            File.Delete(html);
        }
        await StopAsync(serve);
    }

    [Fact]
    public async Task NewConnectionPerRequestOverPlainHttpOpensOneConnectionPerRequest()
    {
        using var server = new RawHttpServer();

        var (result, root) = await EddyCli.RunLoadHttpAsync(Timeout, server.Url("/"), "-n", "50", "-c", "2", "--loops", "1", "--new-connection-per-request");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(50, root.GetProperty("requests").GetInt64());
        Assert.Equal(50, server.Requests);
        Assert.Equal(1 + 50, server.Connections); // the reachability check, then one per request
        Assert.Equal(50, root.GetProperty("connectionsOpened").GetInt64());
        Assert.Equal("http", root.GetProperty("scheme").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("tlsHandshakeUs").ValueKind);
    }

    [Fact]
    public async Task AnUntrustedCertificateWithoutInsecureIsOneClearLine()
    {
        using EddyServeProcess serve = await StartServeAsync();

        EddyCli.Result result = await EddyCli.RunAsync(Timeout, "load", "http", $"https://localhost:{serve.HttpsPort}/plaintext", "-n", "10");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.StartsWith($"eddy: TLS handshake with localhost:{serve.HttpsPort}", result.Stderr);
        Assert.Contains("UntrustedRoot", result.Stderr);
        Assert.Contains("--cacert", result.Stderr);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        await StopAsync(serve);
    }

    [Theory]
    [InlineData("http://127.0.0.1:1/", "--insecure", "", "--insecure is for https:// URLs")]
    [InlineData("https://127.0.0.1:1/", "--cacert", "/no/such/ca.pem", "--cacert: cannot read /no/such/ca.pem: no such file")]
    [InlineData("https://127.0.0.1:1/", "--pipeline", "2", "--pipeline cannot be combined with --new-connection-per-request")]
    public async Task TlsOptionMistakesAreOneLineAndExitTwo(string url, string option, string value, string message)
    {
        string[] arguments = value.Length == 0
            ? ["load", "http", url, option, "--new-connection-per-request"]
            : ["load", "http", url, option, value, "--new-connection-per-request"];
        EddyCli.Result result = await EddyCli.RunAsync(Timeout, arguments);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"eddy: {message}", result.Stderr);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task TcpLoadWithTlsEchoesOverTlsTrustingCacertAndReportsTheHandshakes()
    {
        using var loops = new LoopGroup(1);
        loops.Start();
        var tls = TlsTestCertificates.ServerOptions(["localhost"]);
        GroupServer server = await loops.StartServerAsync(async (reader, writer) =>
        {
            byte[] buffer = new byte[16 * 1024];
            int n;
            while ((n = await reader.ReadAsync(buffer)) > 0)
            {
                writer.Write(buffer.AsSpan(0, n));
                await writer.DrainAsync();
            }
        }, new IPEndPoint(IPAddress.Loopback, 0), tls);
        int port = ((IPEndPoint)server.EndPoint).Port;
        string caFile = Path.Combine(Path.GetTempPath(), $"eddy-ca-{Guid.NewGuid():N}.pem");
        string json = caFile + ".json";
        try
        {
            await File.WriteAllTextAsync(caFile, TlsTestCertificates.Create("localhost").ExportCertificatePem());

            EddyCli.Result oneShot = await EddyCli.RunAsync(Timeout, "load", "tcp", $"localhost:{port}", "--tls", "--cacert", caFile, "-c", "4", "--rounds", "2", "--size", "3000", "--json", json);
            Assert.True(oneShot.ExitCode == 0, oneShot.Stderr + oneShot.Stdout);
            using (JsonDocument report = JsonDocument.Parse(await File.ReadAllTextAsync(json)))
            {
                JsonElement root = report.RootElement;
                Assert.Equal(8, root.GetProperty("successes").GetInt64());
                Assert.Equal(0, root.GetProperty("errors").GetInt64());
                Assert.True(root.GetProperty("tls").GetBoolean());
                Assert.Equal("TLSv1.3", root.GetProperty("tlsVersion").GetString());
                Assert.True(root.GetProperty("tlsHandshakeUs").GetProperty("p50").GetInt64() > 0);
            }
            Assert.Contains("tls echo (trusting --cacert only", oneShot.Stdout);
            Assert.Contains("handshake (µs)", oneShot.Stdout);

            EddyCli.Result closedLoop = await EddyCli.RunAsync(Timeout, "load", "tcp", $"127.0.0.1:{port}", "--tls", "--insecure", "-c", "2", "-d", "500ms", "--json", json, "--quiet");
            Assert.True(closedLoop.ExitCode == 0, $"exit {closedLoop.ExitCode}: {closedLoop.Stderr}");
            using (JsonDocument report = JsonDocument.Parse(await File.ReadAllTextAsync(json)))
            {
                Assert.True(report.RootElement.GetProperty("messages").GetInt64() > 0);
                Assert.Equal(0, report.RootElement.GetProperty("errors").GetInt64());
            }

            // Not trusted: the handshake before the run says so, in one line.
            EddyCli.Result untrusted = await EddyCli.RunAsync(Timeout, "load", "tcp", $"localhost:{port}", "--tls", "-c", "2", "--quiet");
            Assert.Equal(2, untrusted.ExitCode);
            Assert.StartsWith($"eddy: TLS handshake with localhost:{port} (127.0.0.1:{port}) failed", untrusted.Stderr);
            Assert.Contains("UntrustedRoot", untrusted.Stderr);
            Assert.Single(untrusted.Stderr.TrimEnd('\n').Split('\n'));
        }
        finally
        {
            File.Delete(caFile);
            File.Delete(json);
            await server.CloseAsync();
        }
    }

    private Task<EddyServeProcess> StartServeAsync() =>
        EddyServeProcess.StartAsync(["--port", "0", "--loops", "1", .. certificate.ServeArguments]);

    private static async Task StopAsync(EddyServeProcess serve)
    {
        var (exitCode, _, stderr) = await serve.StopAsync();
        Assert.Equal(0, exitCode);
        Assert.Equal("", stderr);
    }
}
