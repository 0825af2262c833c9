using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Eddy.Tls;

/// <summary>Whether a TLS server asks its clients for a certificate.</summary>
public enum ClientCertificateMode
{
    /// <summary>No client certificate is asked for.</summary>
    NoCertificate,

    /// <summary>A client certificate is asked for; a client may send none. One that is sent must pass validation.</summary>
    AllowCertificate,

    /// <summary>A client certificate is required and must pass validation.</summary>
    RequireCertificate,
}

/// <summary>
/// How a server speaks TLS (Kestrel's <c>HttpsConnectionAdapterOptions</c>, asyncio's <c>ssl=</c> context):
/// the certificates, ALPN, protocol versions, client certificates and the handshake timeout. Read when each
/// handshake starts, so the same options can serve many servers and loops; change them before serving.
/// </summary>
public sealed class TlsServerOptions
{
    /// <summary>
    /// The server's certificates. A client that names a host (SNI) gets the first certificate that serves
    /// that name (<see cref="TlsCertificate.Matches"/>); one that names none, or a name no certificate serves,
    /// gets the first certificate (the default). At least one is required.
    /// </summary>
    public List<TlsCertificate> Certificates { get; } = [];

    /// <summary>The protocols offered through ALPN, in the server's order of preference; default <c>http/1.1</c>.
    /// Empty: no ALPN. A client that offers only protocols not in the list fails the handshake.</summary>
    public List<SslApplicationProtocol> ApplicationProtocols { get; } = [SslApplicationProtocol.Http11];

    /// <summary>The TLS versions accepted: TLS 1.2 and 1.3 (the default), or one of them.</summary>
    public SslProtocols EnabledProtocols
    {
        get;
        set => field = TlsServerOptions.CheckProtocols(value);
    } = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>Whether clients are asked for a certificate; default <see cref="ClientCertificateMode.NoCertificate"/>.</summary>
    public ClientCertificateMode ClientCertificateMode { get; set; }

    /// <summary>
    /// Decides whether a client certificate is accepted (called on the loop thread during the handshake with
    /// the certificate, its chain as built against the system's trust store, and the errors found). Null: a
    /// certificate is accepted only when it has no errors.
    /// </summary>
    public Func<X509Certificate2, X509Chain?, SslPolicyErrors, bool>? ClientCertificateValidation { get; set; }

    /// <summary>How long a handshake may take before the connection is closed; default 10 s (Kestrel's).</summary>
    public TimeSpan HandshakeTimeout
    {
        get;
        set
        {
            if (value <= TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "The handshake timeout must be positive (or infinite).");
            }
            field = value;
        }
    } = TimeSpan.FromSeconds(10);

    /// <summary>Checks the options can serve: throws <see cref="InvalidOperationException"/> saying what is missing.</summary>
    public void Validate()
    {
        if (Certificates.Count == 0)
        {
            throw new InvalidOperationException("TlsServerOptions.Certificates is empty: a TLS server needs at least one certificate.");
        }
    }

    /// <summary>The certificate for a client that asked for <paramref name="serverName"/> (SNI; null or empty: none).</summary>
    public TlsCertificate SelectCertificate(string? serverName)
    {
        Validate();
        if (!string.IsNullOrEmpty(serverName))
        {
            foreach (TlsCertificate certificate in Certificates)
            {
                if (certificate.Matches(serverName))
                {
                    return certificate;
                }
            }
        }
        return Certificates[0];
    }

    /// <summary>Only TLS 1.2 and 1.3: SSL 3, TLS 1.0 and 1.1 are broken or deprecated (RFC 8996).</summary>
    internal static SslProtocols CheckProtocols(SslProtocols value) =>
        value != SslProtocols.None && (value & ~(SslProtocols.Tls12 | SslProtocols.Tls13)) == 0
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "Only TLS 1.2 and TLS 1.3 can be enabled.");

    /// <summary>The SslStream options for one handshake, once the client's hello named <paramref name="serverName"/>.</summary>
    internal SslServerAuthenticationOptions CreateAuthenticationOptions(string? serverName)
    {
        TlsCertificate certificate = SelectCertificate(serverName);
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = certificate.Context,
            EnabledSslProtocols = EnabledProtocols,
            ApplicationProtocols = ApplicationProtocols.Count > 0 ? ApplicationProtocols : null,
            ClientCertificateRequired = ClientCertificateMode != ClientCertificateMode.NoCertificate,
            AllowRenegotiation = false,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (ClientCertificateMode != ClientCertificateMode.NoCertificate)
        {
            ClientCertificateMode mode = ClientCertificateMode;
            Func<X509Certificate2, X509Chain?, SslPolicyErrors, bool>? validate = ClientCertificateValidation;
            options.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                if (certificate is null)
                {
                    return mode == ClientCertificateMode.AllowCertificate;
                }
                var x509 = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
                return validate is null ? errors == SslPolicyErrors.None : validate(x509, chain, errors);
            };
        }
        return options;
    }
}
