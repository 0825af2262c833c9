using System.Globalization;
using System.Net;
using System.Net.Sockets;

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
        return new IPEndPoint(ResolveHost(host), portNumber);
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
}
