using System.Net;
using System.Text;
using Eddy.Interop;
using Eddy.Tls;

namespace Eddy.Cli.Load.Http;

/// <summary>What <c>eddy load http</c> runs, already validated by <see cref="HttpLoadCommand"/>.</summary>
/// <param name="Duration">Stop after this long (null: only <paramref name="Requests"/> bounds the run).</param>
/// <param name="Requests">Stop once this many requests have ended, as responses or errors; exactly this many are started.</param>
/// <param name="Rate">Constant throughput: requests per second over all connections (null: as fast as the server answers).</param>
/// <param name="Timeout">The longest a connect or a response may take.</param>
/// <param name="Request">The request, formatted once: every send writes these bytes (<paramref name="Pipeline"/> copies of them at a time).
/// With <paramref name="Body"/>, only its head.</param>
/// <param name="Body">A body too large to be formatted into every request (see <see cref="LoadRequestBody"/>): sent after each
/// head from the mapped file, as the socket takes it. Null: the body, if any, is in <paramref name="Request"/>.</param>
/// <param name="Tls">For an https:// URL, how to speak TLS (the server's name, how its certificate is checked); null for http://.</param>
/// <param name="NewConnectionPerRequest">Open a new connection (and with TLS do a new handshake) for every request, to
/// measure connections or handshakes per second; the request then says <c>Connection: close</c>.</param>
internal sealed record HttpLoadSettings(
    Uri Url,
    IPEndPoint Target,
    int Connections,
    int Loops,
    int Pipeline,
    TimeSpan? Duration,
    long? Requests,
    double? Rate,
    TimeSpan Timeout,
    string Method,
    byte[] Request,
    MappedFile? Body = null,
    TlsClientOptions? Tls = null,
    bool NewConnectionPerRequest = false)
{
    public bool IsPaced => Rate is not null;

    public bool IsTls => Tls is not null;

    /// <summary>Responses to HEAD carry framing fields but no body (RFC 9110 §9.3.2).</summary>
    public bool IsHeadRequest => Method == "HEAD";
}

/// <summary>Formats the request once, before the run, so the hot path only copies bytes.</summary>
internal static class HttpRequestBuilder
{
    /// <summary>The head (<see cref="BuildHead"/>) and then <paramref name="body"/>.</summary>
    public static byte[] Build(Uri url, string method, IReadOnlyList<(string Name, string Value)> headers, byte[] body, bool close = false) =>
        [.. BuildHead(url, method, headers, body.Length, close), .. body];

    /// <summary>
    /// <c>METHOD path?query HTTP/1.1</c>, then Host (from the URL, unless a header gives one), the user's
    /// headers in order, and Content-Length for a body of <paramref name="bodyLength"/> bytes (unless a header
    /// gives it). Keep-alive is HTTP/1.1's default, so no Connection field is sent, as wrk sends none, unless
    /// <paramref name="close"/> asks for <c>Connection: close</c> (one request per connection; a header may say otherwise).
    /// </summary>
    public static byte[] BuildHead(Uri url, string method, IReadOnlyList<(string Name, string Value)> headers, long bodyLength, bool close = false)
    {
        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(url.PathAndQuery).Append(" HTTP/1.1\r\n");
        if (!headers.Any(h => h.Name.Equals("Host", StringComparison.OrdinalIgnoreCase)))
        {
            head.Append("Host: ").Append(url.IsDefaultPort ? url.Host : $"{url.Host}:{url.Port}").Append("\r\n");
        }
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }
        if (close && !headers.Any(h => h.Name.Equals("Connection", StringComparison.OrdinalIgnoreCase)))
        {
            head.Append("Connection: close\r\n");
        }
        bool hasLength = headers.Any(h => h.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || h.Name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase));
        if (bodyLength > 0 && !hasLength)
        {
            head.Append("Content-Length: ").Append(bodyLength).Append("\r\n");
        }
        head.Append("\r\n");
        return Encoding.Latin1.GetBytes(head.ToString());
    }
}
