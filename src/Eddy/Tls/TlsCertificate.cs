using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Eddy.Tls;

/// <summary>
/// A server certificate with its private key and the chain sent with it, and the host names it serves
/// (for SNI, see <see cref="TlsServerOptions.Certificates"/>). Built once into an
/// <see cref="SslStreamCertificateContext"/>, so a handshake does not rebuild the chain.
/// </summary>
public sealed class TlsCertificate
{
    private volatile SslStreamCertificateContext _context;
    private readonly string[]? _hostNames;

    private TlsCertificate(SslStreamCertificateContext context, IEnumerable<string>? hostNames)
    {
        _context = context;
        _hostNames = hostNames?.Select(n => n.ToLowerInvariant()).ToArray();
    }

    /// <summary>
    /// A certificate from <paramref name="leaf"/> (which must hold its private key) and the intermediate
    /// certificates sent after it. <paramref name="hostNames"/> are the names it serves for SNI; null: the
    /// DNS names of its Subject Alternative Name extension (or its common name when it has none).
    /// </summary>
    public static TlsCertificate FromCertificate(X509Certificate2 leaf, X509Certificate2Collection? chain = null, IEnumerable<string>? hostNames = null)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        if (!leaf.HasPrivateKey)
        {
            throw new ArgumentException($"The certificate {leaf.Subject} has no private key.", nameof(leaf));
        }
        return new TlsCertificate(CreateContext(leaf, chain), hostNames);
    }

    /// <summary>
    /// A certificate from PEM files: <paramref name="certificatePath"/> holds the certificate, then any
    /// intermediates of its chain; <paramref name="keyPath"/> its private key (PKCS#8, PKCS#1 or SEC1,
    /// unencrypted). Throws <see cref="TlsConfigurationException"/> with a one-line reason when a file is
    /// missing or unreadable or the key does not match the certificate.
    /// </summary>
    public static TlsCertificate FromPemFiles(string certificatePath, string keyPath, IEnumerable<string>? hostNames = null) =>
        new(LoadPem(certificatePath, keyPath), hostNames);

    /// <summary>The certificate sent to clients.</summary>
    public X509Certificate2 Certificate => _context.TargetCertificate;

    /// <summary>The names this certificate serves: given, or read from the certificate.</summary>
    public IReadOnlyList<string> HostNames => _hostNames ?? NamesOf(_context.TargetCertificate);

    /// <summary>True when <paramref name="hostName"/> is one of <see cref="HostNames"/>, or matches a wildcard
    /// name (<c>*.example.com</c> matches <c>a.example.com</c>, not <c>example.com</c> nor <c>a.b.example.com</c>).</summary>
    public bool Matches(string hostName)
    {
        ArgumentNullException.ThrowIfNull(hostName);
        foreach (string name in HostNames)
        {
            if (NameMatches(name, hostName))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The context handshakes use: the current certificate, its key and its chain.</summary>
    internal SslStreamCertificateContext Context => _context;

    internal static bool NameMatches(string pattern, string hostName)
    {
        if (pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            int dot = hostName.IndexOf('.');
            return dot > 0 && hostName.AsSpan(dot).Equals(pattern.AsSpan(1), StringComparison.OrdinalIgnoreCase);
        }
        return string.Equals(pattern, hostName, StringComparison.OrdinalIgnoreCase);
    }

    private static string[] NamesOf(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                names.AddRange(san.EnumerateDnsNames());
            }
        }
        if (names.Count == 0 && certificate.GetNameInfo(X509NameType.DnsName, forIssuer: false) is { Length: > 0 } cn)
        {
            names.Add(cn);
        }
        return names.Select(n => n.ToLowerInvariant()).ToArray();
    }

    private static SslStreamCertificateContext LoadPem(string certificatePath, string keyPath)
    {
        ArgumentNullException.ThrowIfNull(certificatePath);
        ArgumentNullException.ThrowIfNull(keyPath);
        X509Certificate2 leaf;
        var chain = new X509Certificate2Collection();
        try
        {
            leaf = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            chain.ImportFromPemFile(certificatePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new TlsConfigurationException($"cannot load the certificate {certificatePath} with the key {keyPath}: {e.Message}", e);
        }
        // The file's first certificate is the leaf; the others are its chain.
        if (chain.Count > 0)
        {
            chain.RemoveAt(0);
        }
        return CreateContext(leaf, chain);
    }

    private static SslStreamCertificateContext CreateContext(X509Certificate2 leaf, X509Certificate2Collection? chain) =>
        // offline: no OCSP fetch in the background; the chain is what the files hold (and what the system trusts).
        SslStreamCertificateContext.Create(leaf, chain, offline: true);
}
