using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Eddy.FunctionalTests.Streams;
using Eddy.Loop;
using Eddy.Streams;
using Eddy.Tls;
using Eddy.Transports;

namespace Eddy.FunctionalTests.Tls;

/// <summary>
/// <see cref="TlsCertificate"/> from files: PEM with a chain, PFX, one-line errors naming the file, and reload when
/// the files change (new handshakes get the new certificate, a broken replacement keeps the old one).
/// </summary>
public sealed class TlsCertificateTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("eddy-tls-cert-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public Task PemWithAChainSendsTheIntermediateSoAClientTrustingOnlyTheRootAccepts() => StreamTestLoop.RunAsync(async loop =>
    {
        using ECDsa rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 root = CreateCa("CN=Eddy Test Root", rootKey, issuer: null, issuerKey: null);
        using ECDsa intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 intermediate = CreateCa("CN=Eddy Test Intermediate", intermediateKey, root, rootKey);
        using ECDsa leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 leaf = CreateLeaf("chain.test", leafKey, intermediate, intermediateKey);
        string certificatePath = Write("chain.pem", leaf.ExportCertificatePem() + "\n" + intermediate.ExportCertificatePem() + "\n");
        string keyPath = Write("chain.key", leafKey.ExportPkcs8PrivateKeyPem());

        using TlsCertificate certificate = TlsCertificate.FromPemFiles(certificatePath, keyPath);
        Assert.Equal(leaf.Thumbprint, certificate.Certificate.Thumbprint);
        Assert.Equal(["chain.test"], certificate.HostNames);
        Server server = StartEchoServer(loop, certificate);

        var client = new TlsClientOptions { ServerName = "chain.test" };
        client.TrustedCertificateAuthorities.Add(X509CertificateLoader.LoadCertificate(root.RawData));
        Assert.Equal(leaf.Thumbprint, await RemoteThumbprintAsync(loop, server, client));
        server.Close();
    });

    [Fact]
    public Task PfxFileWithPasswordServesItsCertificate() => StreamTestLoop.RunAsync(async loop =>
    {
        X509Certificate2 self = TlsTestCertificates.Create("pfx.test");
        string path = Write("server.pfx", self.Export(X509ContentType.Pkcs12, "s3cret"));

        using TlsCertificate certificate = TlsCertificate.FromPfxFile(path, "s3cret");
        Server server = StartEchoServer(loop, certificate);

        Assert.Equal(self.Thumbprint, await RemoteThumbprintAsync(loop, server, TlsTestCertificates.Trusting(self, "pfx.test")));
        server.Close();

        TlsConfigurationException wrong = Assert.Throws<TlsConfigurationException>(() => TlsCertificate.FromPfxFile(path, "wrong"));
        AssertOneLineNaming(wrong, path);
    });

    [Fact]
    public void AKeyThatDoesNotMatchTheCertificateIsOneClearLine()
    {
        (string certificatePath, _) = WritePem("a", "a.test");
        (_, string otherKeyPath) = WritePem("b", "b.test");

        TlsConfigurationException e = Assert.Throws<TlsConfigurationException>(() => TlsCertificate.FromPemFiles(certificatePath, otherKeyPath));

        AssertOneLineNaming(e, otherKeyPath);
        Assert.Contains(certificatePath, e.Message);
        Assert.Contains("does not match", e.Message);
    }

    [Fact]
    public void MissingOrWrongFilesAreOneClearLineNamingTheFile()
    {
        (string certificatePath, string keyPath) = WritePem("c", "c.test");
        string missing = Path.Combine(_folder, "missing.pem");

        TlsConfigurationException noCertificate = Assert.Throws<TlsConfigurationException>(() => TlsCertificate.FromPemFiles(missing, keyPath));
        AssertOneLineNaming(noCertificate, missing);
        Assert.Contains("no such file", noCertificate.Message);

        TlsConfigurationException noKey = Assert.Throws<TlsConfigurationException>(() => TlsCertificate.FromPemFiles(certificatePath, missing));
        AssertOneLineNaming(noKey, missing);
        Assert.Contains("key", noKey.Message);

        // The files swapped: a key where the certificate should be, and the reverse.
        TlsConfigurationException swapped = Assert.Throws<TlsConfigurationException>(() => TlsCertificate.FromPemFiles(keyPath, certificatePath));
        AssertOneLineNaming(swapped, keyPath);
        Assert.Contains("no PEM certificate", swapped.Message);

        TlsConfigurationException noPfx = Assert.Throws<TlsConfigurationException>(() => TlsCertificate.FromPfxFile(missing, null));
        AssertOneLineNaming(noPfx, missing);
    }

    [Fact]
    public Task ReplacedFilesAreServedToNewConnectionsWhileEstablishedOnesCarryOn() => StreamTestLoop.RunAsync(async loop =>
    {
        X509Certificate2 a = TlsTestCertificates.Create("reload.test", "a.reload.test");
        X509Certificate2 b = TlsTestCertificates.Create("reload.test", "b.reload.test");
        string certificatePath = Path.Combine(_folder, "cert.pem");
        string keyPath = Path.Combine(_folder, "key.pem");
        Replace(certificatePath, keyPath, a);
        using TlsCertificate certificate = TlsCertificate.FromPemFiles(certificatePath, keyPath, watch: true);
        certificate.Debounce = TimeSpan.FromMilliseconds(50);
        var reloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        certificate.Reloaded += (_, _) => reloaded.TrySetResult();
        Server server = StartEchoServer(loop, certificate);
        var client = new TlsClientOptions { ServerName = "reload.test", SkipServerCertificateValidation = true };

        var (reader, writer) = await loop.OpenConnectionAsync("127.0.0.1", server.Port, client);
        Assert.Equal(a.Thumbprint, ((TlsTransport)writer.Transport).RemoteCertificate!.Thumbprint);

        Replace(certificatePath, keyPath, b); // as certbot does: new files renamed over the old ones
        await reloaded.Task.WaitAsync(StreamTestLoop.Timeout);

        Assert.Equal(b.Thumbprint, certificate.Certificate.Thumbprint);
        Assert.Equal(["reload.test", "b.reload.test"], certificate.HostNames);
        Assert.Equal(b.Thumbprint, await RemoteThumbprintAsync(loop, server, client));
        // The connection made before the reload still works, on its own session.
        writer.Write("still here"u8);
        byte[] echoed = new byte[10];
        await reader.ReadExactlyAsync(echoed);
        Assert.Equal("still here"u8.ToArray(), echoed);
        writer.Close();
        server.Close();
    });

    [Fact]
    public Task ABrokenReplacementKeepsTheOldCertificateAndRaisesReloadFailed() => StreamTestLoop.RunAsync(async loop =>
    {
        X509Certificate2 a = TlsTestCertificates.Create("broken.test");
        X509Certificate2 other = TlsTestCertificates.Create("other.test");
        string certificatePath = Path.Combine(_folder, "cert.pem");
        string keyPath = Path.Combine(_folder, "key.pem");
        Replace(certificatePath, keyPath, a);
        using TlsCertificate certificate = TlsCertificate.FromPemFiles(certificatePath, keyPath, watch: true);
        certificate.Debounce = TimeSpan.FromMilliseconds(50);
        var failed = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        int reloads = 0;
        certificate.ReloadFailed += (_, e) => failed.TrySetResult(e.GetException());
        certificate.Reloaded += (_, _) => Interlocked.Increment(ref reloads);
        Server server = StartEchoServer(loop, certificate);
        var client = TlsTestCertificates.Trusting(a, "broken.test");

        // A key that belongs to another certificate (a renewal half done): the pair does not load.
        File.WriteAllText(keyPath + ".tmp", other.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.Move(keyPath + ".tmp", keyPath, overwrite: true);
        Exception error = await failed.Task.WaitAsync(StreamTestLoop.Timeout);

        TlsConfigurationException e = Assert.IsType<TlsConfigurationException>(error);
        AssertOneLineNaming(e, keyPath);
        Assert.Contains("does not match", e.Message);
        Assert.Equal(0, Volatile.Read(ref reloads));
        Assert.Equal(a.Thumbprint, certificate.Certificate.Thumbprint);
        Assert.Equal(a.Thumbprint, await RemoteThumbprintAsync(loop, server, client));
        server.Close();
    });

    [Fact]
    public void ReloadOfACertificateNotFromFilesIsRefusedAndDisposeIsIdempotent()
    {
        TlsCertificate certificate = TlsCertificate.FromCertificate(TlsTestCertificates.Create("mem.test"));
        Assert.Throws<InvalidOperationException>(() => certificate.Reload());
        certificate.Dispose();
        certificate.Dispose();
    }

    private static Server StartEchoServer(EventLoop loop, TlsCertificate certificate)
    {
        var options = new TlsServerOptions();
        options.Certificates.Add(certificate);
        return loop.StartServer(async (reader, writer) =>
        {
            byte[] buffer = new byte[1024];
            int n;
            while ((n = await reader.ReadAsync(buffer)) > 0)
            {
                writer.Write(buffer.AsSpan(0, n));
            }
        }, StreamTestLoop.AnyLoopbackPort, options);
    }

    private static async Task<string> RemoteThumbprintAsync(EventLoop loop, Server server, TlsClientOptions client)
    {
        var (_, writer) = await loop.OpenConnectionAsync("127.0.0.1", server.Port, client);
        string thumbprint = ((TlsTransport)writer.Transport).RemoteCertificate!.Thumbprint;
        writer.Close();
        return thumbprint;
    }

    private static void AssertOneLineNaming(TlsConfigurationException e, string path)
    {
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    private string Write(string name, string text) => Write(name, System.Text.Encoding.ASCII.GetBytes(text));

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private (string Certificate, string Key) WritePem(string prefix, string name)
    {
        X509Certificate2 certificate = TlsTestCertificates.Create(name);
        return (Write(prefix + ".crt", certificate.ExportCertificatePem()), Write(prefix + ".key", certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem()));
    }

    /// <summary>Writes the pair to temporary files and renames them over the old ones, certificate first, as certbot and deploy scripts do.</summary>
    private static void Replace(string certificatePath, string keyPath, X509Certificate2 certificate)
    {
        File.WriteAllText(certificatePath + ".tmp", certificate.ExportCertificatePem());
        File.WriteAllText(keyPath + ".tmp", certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.Move(certificatePath + ".tmp", certificatePath, overwrite: true);
        File.Move(keyPath + ".tmp", keyPath, overwrite: true);
    }

    private static X509Certificate2 CreateCa(string subject, ECDsa key, X509Certificate2? issuer, ECDsa? issuerKey)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        DateTimeOffset from = DateTimeOffset.UtcNow.AddDays(-1), to = DateTimeOffset.UtcNow.AddDays(30);
        if (issuer is null)
        {
            return request.CreateSelfSigned(from, to);
        }
        using X509Certificate2 issued = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey!), from, to.AddDays(-1), RandomNumberGenerator.GetBytes(8));
        return X509CertificateLoader.LoadCertificate(issued.RawData);
    }

    private static X509Certificate2 CreateLeaf(string name, ECDsa key, X509Certificate2 issuer, ECDsa issuerKey)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using X509Certificate2 issued = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(20), RandomNumberGenerator.GetBytes(8));
        return X509CertificateLoader.LoadCertificate(issued.RawData);
    }
}
