using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Eddy.Tls;

namespace Eddy.Cli.Load;

/// <summary>What every <c>eddy load</c> mode parses and writes the same way: targets, durations, output files, exit codes.</summary>
internal static class LoadCommandLine
{
    /// <summary>Exit code when not one request or message succeeded.</summary>
    public const int AllFailed = 1;

    /// <summary>Exit code after Ctrl-C or SIGTERM: 128 + SIGINT, as shells report it. The figures so far are still printed.</summary>
    public const int Interrupted = 130;

    /// <summary>Opens an output file (<c>--json</c>, <c>--html</c>) before the run: a bad path should fail before a ten-second run, not after it.</summary>
    public static FileStream OpenOutput(string option, string path)
    {
        try
        {
            return new FileStream(path, FileMode.Create, FileAccess.Write);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserError($"cannot write {option} file: {e.Message}");
        }
    }

    /// <summary>
    /// Parses HOST:PORT. The host is an IP literal or a name, resolved here, once, before any loop starts;
    /// IPv4 is preferred because the echo servers listen on 127.0.0.1 by default while "localhost" may
    /// resolve to ::1 first. IPv6 literals need brackets, as in URLs (RFC 3986 §3.2.2): [::1]:8888.
    /// </summary>
    internal static IPEndPoint ResolveTarget(string text)
    {
        (string host, int port) = SplitTarget(text);
        return new IPEndPoint(ResolveHost(host), port);
    }

    /// <summary>HOST:PORT as its host (without the brackets of an IPv6 literal) and its port, checked; see <see cref="ResolveTarget"/>.</summary>
    internal static (string Host, int Port) SplitTarget(string text)
    {
        string host;
        string port;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                throw new UserError($"'{text}' is not HOST:PORT (an IPv6 address is written [::1]:8888)");
            }
            host = text[1..close];
            port = text[(close + 2)..];
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0)
            {
                throw new UserError($"'{text}' is not HOST:PORT: the port is missing (e.g. 127.0.0.1:8888)");
            }
            host = text[..colon];
            port = text[(colon + 1)..];
            if (host.Contains(':'))
            {
                throw new UserError($"'{text}' is not HOST:PORT: write an IPv6 address in brackets, e.g. [::1]:8888");
            }
        }
        if (host.Length == 0)
        {
            throw new UserError($"'{text}' is not HOST:PORT: the host is missing (e.g. 127.0.0.1:8888)");
        }
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int portNumber))
        {
            throw new UserError($"'{port}' is not a port number (in '{text}')");
        }
        if (portNumber is < 1 or > 65535)
        {
            throw new UserError($"port {portNumber} is out of range: it must be between 1 and 65535");
        }
        return (host, portNumber);
    }

    /// <summary>An IP literal as is, else a name resolved here (IPv4 preferred: servers listen on 127.0.0.1 by default).</summary>
    internal static IPAddress ResolveHost(string host)
    {
        if (IPAddress.TryParse(host, out IPAddress? literal))
        {
            return literal;
        }
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(host);
        }
        catch (SocketException e)
        {
            throw new UserError($"cannot resolve '{host}': {e.Message}");
        }
        return Array.Find(addresses, a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? Array.Find(addresses, a => a.AddressFamily == AddressFamily.InterNetworkV6)
            ?? throw new UserError($"cannot resolve '{host}': no IPv4 or IPv6 address");
    }

    /// <summary>
    /// The client's TLS options, or null when <paramref name="isTls"/> is false (then <c>--insecure</c> and <c>--cacert</c>
    /// are errors: "<c>--insecure</c> <paramref name="tlsOnly"/>"). <paramref name="serverName"/> is sent as SNI and is the
    /// name the certificate must carry; the certificate is checked against the system's store, or only the certificates of
    /// <paramref name="caPath"/>, or, with <paramref name="insecure"/>, not at all.
    /// </summary>
    internal static TlsClientOptions? CreateTlsOptions(bool isTls, string tlsOnly, string serverName, bool insecure, string? caPath, TimeSpan timeout, SslApplicationProtocol? alpn = null)
    {
        if (!isTls)
        {
            if (insecure || caPath is not null)
            {
                throw new UserError($"{(insecure ? "--insecure" : "--cacert")} {tlsOnly}");
            }
            return null;
        }
        if (insecure && caPath is not null)
        {
            throw new UserError("--insecure and --cacert contradict each other: --insecure checks no certificate");
        }
        var tls = new TlsClientOptions { ServerName = serverName, SkipServerCertificateValidation = insecure, HandshakeTimeout = timeout };
        if (alpn is { } protocol)
        {
            tls.ApplicationProtocols.Add(protocol);
        }
        if (caPath is not null)
        {
            try
            {
                tls.TrustedCertificateAuthorities.ImportFromPemFile(caPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                string reason = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message.ReplaceLineEndings(" ");
                throw new UserError($"--cacert: cannot read {caPath}: {reason}");
            }
            if (tls.TrustedCertificateAuthorities.Count == 0)
            {
                throw new UserError($"--cacert: {caPath} holds no PEM certificate");
            }
        }
        return tls;
    }

    /// <summary>
    /// Connects once before the run (and over TLS completes a handshake with the run's options), so an unreachable
    /// server or an untrusted certificate is one clear error rather than a run of connect errors.
    /// </summary>
    internal static void CheckReachable(string where, IPEndPoint endPoint, TimeSpan timeout, TlsClientOptions? tls)
    {
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            socket.ConnectAsync(endPoint, cancel.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (SocketException e)
        {
            throw new UserError($"cannot connect to {where}: {e.Message}");
        }
        catch (OperationCanceledException)
        {
            throw new UserError($"cannot connect to {where}: no answer within {timeout.TotalSeconds:0.###} s");
        }
        if (tls is null)
        {
            return;
        }
        using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
        try
        {
            ssl.AuthenticateAsClientAsync(tls.CreateAuthenticationOptions(endPoint.Address.ToString()), cancel.Token).GetAwaiter().GetResult();
        }
        catch (AuthenticationException e)
        {
            string hint = tls.TrustedCertificateAuthorities.Count > 0 ? "" : " (--cacert FILE trusts a self-signed or private CA certificate; --insecure checks none)";
            throw new UserError($"TLS handshake with {where} failed: {e.Message.ReplaceLineEndings(" ")}{hint}");
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            string reason = e is OperationCanceledException ? $"no answer within {timeout.TotalSeconds:0.###} s" : e.Message.ReplaceLineEndings(" ");
            throw new UserError($"TLS handshake with {where} failed: {reason} (does it speak TLS?)");
        }
    }

    /// <summary>How a run checks the server's certificate, for the header line.</summary>
    internal static string TrustText(TlsClientOptions tls) =>
        tls.SkipServerCertificateValidation ? "certificate not checked: --insecure"
        : tls.TrustedCertificateAuthorities.Count > 0 ? "trusting --cacert only"
        : "the system's trusted CAs";

    /// <summary>Parses a positive duration: a number and a unit, ms, s, m or h ("500ms", "1.5s", "1m"); a bare number is seconds.</summary>
    internal static TimeSpan ParseDuration(string option, string text)
    {
        ReadOnlySpan<char> span = text.AsSpan().Trim();
        (string Suffix, double Seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];
        double scale = 1;
        foreach (var (suffix, seconds) in units)
        {
            if (span.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                span = span[..^suffix.Length];
                scale = seconds;
                break;
            }
        }
        if (!double.TryParse(span, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value)
            || !double.IsFinite(value) || value * scale > TimeSpan.FromDays(1).TotalSeconds)
        {
            throw new UserError($"{option} '{text}' is not a duration: use a number and a unit, e.g. 10s, 500ms, 1m (at most 24h)");
        }
        TimeSpan result = TimeSpan.FromSeconds(value * scale);
        if (result < TimeSpan.FromMilliseconds(1))
        {
            throw new UserError($"{option} must be at least 1ms, not '{text}'");
        }
        return result;
    }

    /// <summary>Writes a run's report to the <c>--json</c> and <c>--html</c> files that were asked for (opened before the run).</summary>
    internal static void WriteReports<TReport>(TReport report, FileStream? jsonFile, JsonTypeInfo<TReport> jsonType, FileStream? htmlFile, Action<Stream, TReport> writeHtml)
    {
        if (jsonFile is not null)
        {
            JsonSerializer.Serialize(jsonFile, report, jsonType);
            jsonFile.WriteByte((byte)'\n');
        }
        if (htmlFile is not null)
        {
            writeHtml(htmlFile, report);
        }
    }
}
