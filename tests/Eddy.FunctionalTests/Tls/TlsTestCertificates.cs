using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Eddy.Tls;

namespace Eddy.FunctionalTests.Tls;

/// <summary>Self-signed certificates made in the test process (ECDSA P-256: quick to make), cached per name set.</summary>
internal static class TlsTestCertificates
{
    private static readonly Dictionary<string, X509Certificate2> s_cache = [];

    /// <summary>A self-signed server certificate for <paramref name="names"/> (DNS names in its SAN, the first as CN), valid from yesterday to tomorrow.</summary>
    public static X509Certificate2 Create(params string[] names) => Create(names, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

    public static X509Certificate2 Create(string[] names, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        string key = string.Join(",", names) + notBefore.ToString("yyyyMMdd") + notAfter.ToString("yyyyMMdd");
        lock (s_cache)
        {
            if (!s_cache.TryGetValue(key, out X509Certificate2? certificate))
            {
                s_cache[key] = certificate = Make(names, notBefore, notAfter, serverAuth: true);
            }
            return certificate;
        }
    }

    /// <summary>A self-signed client certificate (clientAuth usage).</summary>
    public static X509Certificate2 CreateClient(string name) => Make([name], DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), serverAuth: false);

    /// <summary>Server options with one certificate per name set, the first the default.</summary>
    public static TlsServerOptions ServerOptions(params string[][] certificates)
    {
        var options = new TlsServerOptions();
        foreach (string[] names in certificates.Length == 0 ? [["localhost"]] : certificates)
        {
            options.Certificates.Add(TlsCertificate.FromCertificate(Create(names)));
        }
        return options;
    }

    /// <summary>Client options that trust exactly <paramref name="certificate"/> (self-signed, so it is its own CA).</summary>
    public static TlsClientOptions Trusting(X509Certificate2 certificate, string? serverName = null)
    {
        var options = new TlsClientOptions { ServerName = serverName };
        options.TrustedCertificateAuthorities.Add(X509CertificateLoader.LoadCertificate(certificate.RawData));
        return options;
    }

    private static X509Certificate2 Make(string[] names, DateTimeOffset notBefore, DateTimeOffset notAfter, bool serverAuth)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={names[0]}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (string name in names)
        {
            san.AddDnsName(name);
        }
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], critical: false));
        using X509Certificate2 ephemeral = request.CreateSelfSigned(notBefore, notAfter);
        // OpenSSL wants the key in a real store format, not the ephemeral one CreateSelfSigned returns.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), password: null);
    }
}
