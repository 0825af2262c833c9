using System.Diagnostics;
using System.Net.Http;
using System.Security.Cryptography.X509Certificates;

namespace Eddy.FunctionalTests.Cli;

/// <summary>A development certificate made by <c>eddy cert create</c> once for a test class, in a folder of its own.</summary>
public sealed class CreatedCertificate : IAsyncLifetime
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("eddy-cert-").FullName;

    public string CertificatePath => Path.Combine(Folder, "cert.pem");

    public string KeyPath => Path.Combine(Folder, "key.pem");

    /// <summary>The arguments that make <c>eddy serve</c> use it.</summary>
    public string[] ServeArguments => ["--tls-cert", CertificatePath, "--tls-key", KeyPath];

    public async Task InitializeAsync()
    {
        EddyCli.Result result = await EddyCli.RunAsync(TimeSpan.FromSeconds(60), "cert", "create", "--out", Folder);
        Assert.True(result.ExitCode == 0, $"eddy cert create exited {result.ExitCode}: {result.Stderr}");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>An HttpClient that trusts exactly this certificate (as its own root), and nothing else.</summary>
    public HttpClient CreateTrustingClient() => TlsCliSupport.CreateTrustingClient(CertificatePath);
}

/// <summary>Running the Debian tools (curl, openssl) and .NET's HttpClient against the CLI's servers.</summary>
internal static class TlsCliSupport
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public sealed record ToolResult(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs <paramref name="fileName"/> with <paramref name="args"/>, writes <paramref name="input"/> to its standard input and closes it.</summary>
    public static async Task<ToolResult> RunToolAsync(string fileName, string[] args, string input = "")
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync().WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            process.Kill();
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not exit within {Timeout}");
        }
        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>curl with a time limit; fails the test unless it exits 0. Returns what it printed.</summary>
    public static async Task<string> CurlAsync(params string[] args)
    {
        ToolResult result = await RunToolAsync("curl", ["--silent", "--show-error", "--max-time", "20", .. args]);
        Assert.True(result.ExitCode == 0, $"curl {string.Join(' ', args)} exited {result.ExitCode}: {result.Stderr}");
        return result.Stdout;
    }

    /// <summary>
    /// <c>openssl s_client</c> to 127.0.0.1:<paramref name="port"/> asking for <paramref name="serverName"/> (SNI and the name
    /// verified), trusting <paramref name="caFile"/> only: sends one request with Connection: close and returns the output.
    /// </summary>
    public static async Task<ToolResult> OpenSslGetAsync(int port, string serverName, string caFile, string path)
    {
        string request = $"GET {path} HTTP/1.1\r\nHost: {serverName}\r\nConnection: close\r\n\r\n";
        return await RunToolAsync("openssl",
        [
            "s_client", "-connect", $"127.0.0.1:{port}", "-servername", serverName, "-verify_hostname", serverName,
            "-CAfile", caFile, "-verify_return_error", "-ign_eof",
        ], request);
    }

    public static HttpClient CreateTrustingClient(string certificatePath)
    {
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPemFile(certificatePath);
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(trusted);
        var handler = new SocketsHttpHandler { SslOptions = { CertificateChainPolicy = policy } };
        return new HttpClient(handler) { Timeout = Timeout };
    }
}
