using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Eddy.Cli.Cert;

/// <summary>
/// A self-signed development certificate, as <c>dotnet dev-certs https</c> makes one: a leaf (basicConstraints
/// CA:FALSE, critical) for the given DNS names and IP addresses in its Subject Alternative Name, key usage
/// digitalSignature, extended key usage serverAuth.
/// <para>
/// The key is ECDSA P-256, not RSA 2048 (dev-certs' and mkcert's default): signing the handshake is what a TLS
/// server spends its CPU on, and a P-256 signature costs a small fraction of an RSA-2048 one, so a server under
/// <c>eddy load http --new-connection-per-request</c> measures itself rather than RSA. Every current client takes
/// it (curl, OpenSSL, browsers, .NET), and it is certbot's default key type since 2.0.
/// </para>
/// <para>
/// The leaf is its own trust anchor: <c>curl --cacert cert.pem</c>, <c>openssl s_client -CAfile cert.pem</c> (verify
/// return code 0, OpenSSL 3.0) and .NET with the file as a custom root all accept a self-signed CA:FALSE
/// certificate named in their trust list, so it needs neither CA:TRUE nor a separate CA (mkcert's scheme, which
/// leaves a CA key on disk that could sign for any name).
/// </para>
/// </summary>
internal static class DevelopmentCertificate
{
    /// <summary>What a certificate serves when no name is given: this machine, by name and by both loopback addresses.</summary>
    public static readonly string[] DefaultNames = ["localhost", "127.0.0.1", "::1"];

    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    /// <summary>The certificate and its key, both PEM (the key unencrypted PKCS#8), valid from an hour ago for <paramref name="days"/> days.</summary>
    public static (string CertificatePem, string KeyPem, X509Certificate2 Certificate) Create(IReadOnlyList<string> names, int days)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        // The first name is the common name too, for the few tools that still show only that.
        var request = new CertificateRequest(new X500DistinguishedName($"CN={names[0]}, O=Eddy development certificate"), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (string name in names)
        {
            if (IPAddress.TryParse(name, out IPAddress? address))
            {
                san.AddIpAddress(address);
            }
            else
            {
                san.AddDnsName(name);
            }
        }
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthentication)], critical: false));
        request.CertificateExtensions.Add(san.Build(critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        // An hour back: a client whose clock is a little behind still takes a certificate made a moment ago.
        DateTimeOffset notBefore = DateTimeOffset.UtcNow.AddHours(-1);
        X509Certificate2 certificate = request.CreateSelfSigned(notBefore, notBefore.AddHours(1).AddDays(days));
        return (certificate.ExportCertificatePem() + "\n", key.ExportPkcs8PrivateKeyPem() + "\n", certificate);
    }

    /// <summary>
    /// Checks a name for the SAN: an IP address, or a DNS name of letters, digits and hyphens in dot-separated labels
    /// (RFC 1123), optionally starting with a <c>*.</c> wildcard label. Returns the reason it is not, or null.
    /// </summary>
    public static string? Problem(string name)
    {
        if (IPAddress.TryParse(name, out _))
        {
            return null;
        }
        string host = name.StartsWith("*.", StringComparison.Ordinal) ? name[2..] : name;
        if (host.Length is 0 or > 253)
        {
            return "a DNS name has 1 to 253 characters";
        }
        foreach (string label in host.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return "a DNS name is dot-separated labels of ASCII letters, digits and inner hyphens (a wildcard only as a first label, *.example.com)";
            }
        }
        return null;
    }
}
