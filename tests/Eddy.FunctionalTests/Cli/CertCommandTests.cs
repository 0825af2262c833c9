using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Eddy.Tls;

namespace Eddy.FunctionalTests.Cli;

/// <summary><c>eddy cert create</c>: what it writes, with which names and modes, and what it refuses.</summary>
public sealed class CertCommandTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"eddy-cert-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task CreateWritesAServerCertificateForLocalhostAndAKeyOnlyItsOwnerCanRead()
    {
        EddyCli.Result result = await EddyCli.RunAsync(Timeout, "cert", "create", "--out", _folder);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Stderr);
        string certificatePath = Path.Combine(_folder, "cert.pem"), keyPath = Path.Combine(_folder, "key.pem");
        Assert.Contains(certificatePath, result.Stdout);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));

        using X509Certificate2 certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath); // the key matches
        Assert.Equal(certificate.SubjectName.RawData, certificate.IssuerName.RawData); // self-signed
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["localhost"], san.EnumerateDnsNames());
        Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback], san.EnumerateIPAddresses());
        Assert.Contains(certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.1");
        Assert.False(certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        using ECDsa? key = certificate.GetECDsaPublicKey();
        Assert.Equal(256, key!.KeySize);
        Assert.InRange((certificate.NotAfter - DateTime.Now).TotalDays, 364, 366);
        using TlsCertificate loaded = TlsCertificate.FromPemFiles(certificatePath, keyPath);
        Assert.Equal(certificate.Thumbprint, loaded.Certificate.Thumbprint);
    }

    [Fact]
    public async Task CreateTakesTheGivenNamesAndDays()
    {
        EddyCli.Result result = await EddyCli.RunAsync(Timeout, "cert", "create", "--out", _folder, "--host", "app.test", "--host", "*.app.test", "--host", "10.1.2.3", "--days", "2");

        Assert.Equal(0, result.ExitCode);
        using X509Certificate2 certificate = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_folder, "cert.pem"));
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["app.test", "*.app.test"], san.EnumerateDnsNames());
        Assert.Equal([IPAddress.Parse("10.1.2.3")], san.EnumerateIPAddresses());
        Assert.InRange((certificate.NotAfter - DateTime.Now).TotalDays, 1.9, 2.1);
    }

    [Fact]
    public async Task CreateRefusesToOverwriteUnlessForced()
    {
        Assert.Equal(0, (await EddyCli.RunAsync(Timeout, "cert", "create", "--out", _folder)).ExitCode);
        string first = await File.ReadAllTextAsync(Path.Combine(_folder, "cert.pem"));

        EddyCli.Result refused = await EddyCli.RunAsync(Timeout, "cert", "create", "--out", _folder);
        Assert.Equal(2, refused.ExitCode);
        Assert.Single(refused.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains("already exists (--force overwrites it)", refused.Stderr);
        Assert.Equal(first, await File.ReadAllTextAsync(Path.Combine(_folder, "cert.pem")));

        EddyCli.Result forced = await EddyCli.RunAsync(Timeout, "cert", "create", "--out", _folder, "--force");
        Assert.Equal(0, forced.ExitCode);
        Assert.NotEqual(first, await File.ReadAllTextAsync(Path.Combine(_folder, "cert.pem")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_folder, "key.pem")));
    }

    [Theory]
    [InlineData("--host", "bad name", "is not a DNS name or an IP address")]
    [InlineData("--host", "a..test", "is not a DNS name or an IP address")]
    [InlineData("--days", "0", "--days must be between 1 and 3650")]
    public async Task BadArgumentsAreOneLineAndExitTwo(string option, string value, string message)
    {
        EddyCli.Result result = await EddyCli.RunAsync(Timeout, "cert", "create", "--out", _folder, option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("eddy: ", result.Stderr);
        Assert.Contains(message, result.Stderr);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        Assert.False(Directory.Exists(_folder));
    }
}
