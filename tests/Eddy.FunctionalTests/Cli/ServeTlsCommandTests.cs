using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Eddy.Cli.Cert;
using Eddy.FunctionalTests.Transports;

namespace Eddy.FunctionalTests.Cli;

/// <summary>
/// <c>eddy serve --tls-cert/--tls-key [--tls-port]</c> with a certificate from <c>eddy cert create</c>, asked by .NET's
/// HttpClient, curl and openssl s_client, each trusting only that certificate; stopped with SIGTERM.
/// </summary>
public sealed class ServeTlsCommandTests(CreatedCertificate certificate) : IClassFixture<CreatedCertificate>
{
    [Fact]
    public async Task HttpsIsAnsweredByHttpClientCurlAndOpenSslTrustingTheCreatedCertificate()
    {
        using EddyServeProcess serve = await EddyServeProcess.StartAsync(["--port", "0", "--loops", "2", .. certificate.ServeArguments]);
        Assert.Empty(serve.HttpUrls); // without --tls-port, HTTPS takes --port
        int port = serve.HttpsPort;

        using (HttpClient client = certificate.CreateTrustingClient())
        {
            Assert.Equal("Hello, World!", await client.GetStringAsync($"https://localhost:{port}/plaintext"));
            using JsonDocument anything = JsonDocument.Parse(await client.GetStringAsync($"https://127.0.0.1:{port}/anything?x=1"));
            Assert.Equal("https", anything.RootElement.GetProperty("scheme").GetString());
            Assert.Equal("TLSv1.3", anything.RootElement.GetProperty("tls").GetProperty("version").GetString());
        }

        Assert.Equal("""{"message":"Hello, World!"}""", await TlsCliSupport.CurlAsync("--cacert", certificate.CertificatePath, $"https://localhost:{port}/json"));
        Assert.Equal("Hello, World!", await TlsCliSupport.CurlAsync("--cacert", certificate.CertificatePath, $"https://127.0.0.1:{port}/plaintext"));
        using (JsonDocument curlTls = JsonDocument.Parse(await TlsCliSupport.CurlAsync("--cacert", certificate.CertificatePath, $"https://localhost:{port}/anything")))
        {
            Assert.Equal("localhost", curlTls.RootElement.GetProperty("tls").GetProperty("sni").GetString());
            Assert.Equal("http/1.1", curlTls.RootElement.GetProperty("tls").GetProperty("alpn").GetString()); // curl offers h2 and http/1.1
        }

        TlsCliSupport.ToolResult openssl = await TlsCliSupport.OpenSslGetAsync(port, "localhost", certificate.CertificatePath, "/plaintext");
        Assert.True(openssl.ExitCode == 0, $"openssl s_client exited {openssl.ExitCode}: {openssl.Stderr}\n{openssl.Stdout}");
        Assert.Contains("Verify return code: 0 (ok)", openssl.Stdout);
        Assert.Contains("HTTP/1.1 200 OK", openssl.Stdout);
        Assert.Contains("Hello, World!", openssl.Stdout);

        AssertStoppedCleanly(await serve.StopAsync());
    }

    [Fact]
    public async Task TlsPortServesHttpsBesideHttpAndBothFinishRequestsInFlightOnSigterm()
    {
        using EddyServeProcess serve = await EddyServeProcess.StartAsync(["--port", "0", "--tls-port", "0", "--loops", "2", "--drain-timeout", "20", .. certificate.ServeArguments]);
        Assert.Matches(@"listening on http://127\.0\.0\.1:\d+ and https://127\.0\.0\.1:\d+ \(2 loops", serve.FirstLine);
        Assert.NotEqual(serve.HttpPort, serve.HttpsPort);

        Assert.Contains("\"scheme\": \"http\"", await TlsCliSupport.CurlAsync($"http://127.0.0.1:{serve.HttpPort}/anything"));
        Assert.Contains("\"scheme\": \"https\"", await TlsCliSupport.CurlAsync("--cacert", certificate.CertificatePath, $"https://localhost:{serve.HttpsPort}/anything"));

        // An upload in flight on each: the server's "100 Continue" says the handler is reading its body.
        using var plainClient = new TcpClient();
        await plainClient.ConnectAsync(IPAddress.Loopback, serve.HttpPort);
        Stream plain = plainClient.GetStream();
        using var tlsClient = new TcpClient();
        await tlsClient.ConnectAsync(IPAddress.Loopback, serve.HttpsPort);
        using var tls = new SslStream(tlsClient.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            CertificateChainPolicy = TrustOnly(certificate.CertificatePath),
        });
        foreach (Stream stream in new[] { plain, tls })
        {
            await stream.WriteAsync("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"u8.ToArray());
            Assert.StartsWith("HTTP/1.1 100 Continue", await ReadHeadAsync(stream));
        }

        Process.Start("kill", ["-TERM", serve.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        // Shutdown has begun once both listeners are closed: new connections are refused.
        await TestData.WaitUntilAsync(() => Task.FromResult(IsRefused(serve.HttpPort) && IsRefused(serve.HttpsPort)), "both listeners closed");

        foreach (Stream stream in new[] { plain, tls })
        {
            await stream.WriteAsync("hello"u8.ToArray());
            string response = await ReadToEndAsync(stream);
            Assert.StartsWith("HTTP/1.1 200 OK", response);
            Assert.Contains("Connection: close", response);
            Assert.EndsWith("""{"bytes":5}""", response);
        }
        AssertStoppedCleanly(await serve.WaitForExitAsync());
    }

    [Fact]
    public async Task ReplacedCertificateFilesAreServedToNewConnectionsAndABrokenOneIsOneLine()
    {
        string folder = Directory.CreateTempSubdirectory("eddy-reload-").FullName;
        try
        {
            string certificatePath = Path.Combine(folder, "cert.pem"), keyPath = Path.Combine(folder, "key.pem");
            Assert.Equal(0, (await EddyCli.RunAsync(TimeSpan.FromSeconds(60), "cert", "create", "--out", folder)).ExitCode);
            using EddyServeProcess serve = await EddyServeProcess.StartAsync(["--port", "0", "--loops", "1", "--tls-cert", certificatePath, "--tls-key", keyPath]);
            string first = await ServedThumbprintAsync(serve.HttpsPort);
            Assert.Equal(X509CertificateLoader.LoadCertificateFromFile(certificatePath).Thumbprint, first);

            // A renewal: cert create writes new files and renames them over the old ones.
            Assert.Equal(0, (await EddyCli.RunAsync(TimeSpan.FromSeconds(60), "cert", "create", "--out", folder, "--force")).ExitCode);
            string renewed = X509CertificateLoader.LoadCertificateFromFile(certificatePath).Thumbprint;
            Assert.NotEqual(first, renewed);
            await TestData.WaitUntilAsync(async () => await ServedThumbprintAsync(serve.HttpsPort) == renewed, "the renewed certificate is served");

            // A broken key: one line on standard error, and the renewed certificate is still served.
            await File.WriteAllTextAsync(keyPath + ".new", "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n");
            File.Move(keyPath + ".new", keyPath, overwrite: true);
            string line = await serve.WaitForErrorLineAsync("cannot be loaded");
            Assert.StartsWith("eddy serve: ", line);
            Assert.Contains(keyPath, line);
            Assert.Equal(renewed, await ServedThumbprintAsync(serve.HttpsPort));

            var (exitCode, _, _) = await serve.StopAsync();
            Assert.Equal(0, exitCode);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task UnusableCertificateOrKeyFilesAreOneLineAndExitTwo()
    {
        string folder = Directory.CreateTempSubdirectory("eddy-bad-cert-").FullName;
        try
        {
            var (_, otherKey, other) = DevelopmentCertificate.Create(["other.test"], 1);
            other.Dispose();
            string otherKeyPath = Path.Combine(folder, "other-key.pem");
            await File.WriteAllTextAsync(otherKeyPath, otherKey);
            string missing = Path.Combine(folder, "missing.pem");
            (string[] Arguments, string Expected)[] cases =
            [
                (["--tls-cert", missing, "--tls-key", certificate.KeyPath], $"cannot read the certificate file {missing}: no such file"),
                (["--tls-cert", certificate.CertificatePath, "--tls-key", missing], $"cannot read the key file {missing}: no such file"),
                (["--tls-cert", certificate.CertificatePath, "--tls-key", otherKeyPath], "does not match the certificate"),
                (["--tls-cert", certificate.KeyPath, "--tls-key", certificate.CertificatePath], "holds no PEM certificate"),
                (["--tls-cert", certificate.CertificatePath], "--tls-cert and --tls-key go together"),
                (["--tls-port", "0"], "--tls-port needs --tls-cert and --tls-key"),
            ];
            foreach (var (arguments, expected) in cases)
            {
                EddyCli.Result result = await EddyCli.RunAsync(TimeSpan.FromSeconds(60), ["serve", "--port", "0", .. arguments]);
                string what = $"eddy serve {string.Join(' ', arguments)}";
                Assert.True(result.ExitCode == 2, $"{what}: exit {result.ExitCode}, stderr: {result.Stderr}");
                Assert.Equal("", result.Stdout);
                Assert.StartsWith("eddy: ", result.Stderr);
                Assert.Contains(expected, result.Stderr);
                Assert.True(result.Stderr.TrimEnd('\n').Split('\n').Length == 1, $"{what}: more than one line: {result.Stderr}");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void AssertStoppedCleanly((int ExitCode, string Stdout, string Stderr) end)
    {
        Assert.Equal(0, end.ExitCode);
        Assert.Contains("eddy serve: stopped", end.Stdout);
        Assert.Equal("", end.Stderr);
    }

    private static X509ChainPolicy TrustOnly(string certificatePath)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.ImportFromPemFile(certificatePath);
        return policy;
    }

    /// <summary>The certificate a new connection to the port is given (not checked: this only asks which one it is).</summary>
    private static async Task<string> ServedThumbprintAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        using var tls = new SslStream(client.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        return ((X509Certificate2)tls.RemoteCertificate!).Thumbprint;
    }

    private static bool IsRefused(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(IPAddress.Loopback, port);
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
    }

    private static async Task<string> ReadHeadAsync(Stream stream)
    {
        var head = new StringBuilder();
        byte[] one = new byte[1];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            Assert.True(await stream.ReadAsync(one, timeout.Token) == 1, $"closed after: {head}");
            head.Append((char)one[0]);
        }
        return head.ToString();
    }

    private static async Task<string> ReadToEndAsync(Stream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var all = new MemoryStream();
        await stream.CopyToAsync(all, timeout.Token);
        return Encoding.ASCII.GetString(all.ToArray());
    }
}
