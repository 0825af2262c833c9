using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Eddy.Tls;

/// <summary>
/// How a client speaks TLS: the name it asks for (SNI, and the name the server's certificate must carry),
/// ALPN, and how the server's certificate is validated: against the system's trust store (the default),
/// against <see cref="TrustedCertificateAuthorities"/> only, or by <see cref="ServerCertificateValidation"/>.
/// </summary>
public sealed class TlsClientOptions
{
    /// <summary>The server's host name: sent as SNI and checked against the certificate. Null: the host connected to
    /// (an IP address is checked but not sent as SNI).</summary>
    public string? ServerName { get; set; }

    /// <summary>The protocols offered through ALPN, in order of preference. Empty (the default): no ALPN.</summary>
    public List<SslApplicationProtocol> ApplicationProtocols { get; } = [];

    /// <summary>The TLS versions offered: TLS 1.2 and 1.3 (the default), or one of them.</summary>
    public SslProtocols EnabledProtocols
    {
        get;
        set => field = TlsServerOptions.CheckProtocols(value);
    } = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>
    /// When not empty, the server's chain must end in one of these certificates (a private CA, a self-signed
    /// development certificate), and the system's trust store is not consulted.
    /// </summary>
    public X509Certificate2Collection TrustedCertificateAuthorities { get; } = [];

    /// <summary>Decides whether the server's certificate is accepted, in place of the checks above (called on the
    /// loop thread with the certificate, its chain and the errors found).</summary>
    public Func<X509Certificate2, X509Chain?, SslPolicyErrors, bool>? ServerCertificateValidation { get; set; }

    /// <summary>Accept any server certificate (curl's <c>--insecure</c>): for tests and benchmarks only.</summary>
    public bool SkipServerCertificateValidation { get; set; }

    /// <summary>The client's certificate, for servers that ask for one.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>How long the handshake may take; default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    internal SslClientAuthenticationOptions CreateAuthenticationOptions(string host)
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = ServerName ?? host,
            EnabledSslProtocols = EnabledProtocols,
            ApplicationProtocols = ApplicationProtocols.Count > 0 ? ApplicationProtocols : null,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            AllowRenegotiation = false,
        };
        if (ClientCertificate is not null)
        {
            options.ClientCertificates = [ClientCertificate];
        }
        if (SkipServerCertificateValidation)
        {
            // An empty custom root store: the chain is not built against the system's trust store (hundreds of
            // certificates read on the first handshake) only for the callback to accept whatever it finds.
            options.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (ServerCertificateValidation is { } validate)
        {
            options.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                certificate is not null && validate(certificate as X509Certificate2 ?? new X509Certificate2(certificate), chain, errors);
        }
        else if (TrustedCertificateAuthorities.Count > 0)
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(TrustedCertificateAuthorities);
            options.CertificateChainPolicy = policy;
        }
        return options;
    }
}
