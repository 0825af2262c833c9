using System.Security.Cryptography;
using System.Text;
using Eddy.Http.Internal;
using Eddy.Internal;
using Eddy.Loop;
using Eddy.Transports;

namespace Eddy.WebSockets.Internal;

/// <summary>
/// The client's side of the opening handshake (RFC 6455 §4.1), as the transport's first protocol: sends the
/// request when the connection is made, reads the answer's head, checks it, and then hands the transport to a
/// client-role <see cref="WebSocketConnection"/> (with the bytes that came after the head).
/// <code>ConnectionMade (request out) -> DataReceived* -> (connection | failure)</code>
/// </summary>
internal sealed class WebSocketClientHandshake : Protocol
{
    /// <summary>The longest answer head read: a 101 is a few hundred bytes.</summary>
    private const int MaxHeadBytes = 16 * 1024;

    private readonly EventLoop _loop;
    private readonly WebSocketClientOptions _options;
    private readonly HttpHeartbeat _heartbeat;
    private readonly byte[] _request;
    private readonly string _expectedAccept;
    private readonly ByteBuffer _head = new();
    private readonly TaskCompletionSource<WebSocketConnection> _result = new();
    private Transport? _transport;

    public WebSocketClientHandshake(EventLoop loop, Uri uri, WebSocketClientOptions options, HttpHeartbeat heartbeat)
    {
        _loop = loop;
        _options = options;
        _heartbeat = heartbeat;
        Span<byte> nonce = stackalloc byte[16];
        RandomNumberGenerator.Fill(nonce); // §4.1: "randomly selected", one per connection
        string key = Convert.ToBase64String(nonce);
        _expectedAccept = WebSocketHandshake.ComputeAccept(key);
        _request = BuildRequest(uri, options, key);
    }

    /// <summary>Completes with the open connection, or fails with a <see cref="WebSocketHandshakeException"/>.</summary>
    public Task<WebSocketConnection> Result => _result.Task;

    /// <summary>The request's head, as sent: the fields §4.1 requires, the subprotocols offered, then the caller's fields.</summary>
    internal static byte[] BuildRequest(Uri uri, WebSocketClientOptions options, string key)
    {
        var head = new StringBuilder(256);
        head.Append("GET ").Append(uri.PathAndQuery.Length == 0 ? "/" : uri.PathAndQuery).Append(" HTTP/1.1\r\n");
        head.Append("Host: ").Append(uri.Authority).Append("\r\n"); // the port only when not the scheme's default (§4.1, item 4)
        head.Append("Upgrade: websocket\r\nConnection: Upgrade\r\n");
        head.Append("Sec-WebSocket-Key: ").Append(key).Append("\r\nSec-WebSocket-Version: 13\r\n");
        if (options.SubProtocols.Count > 0)
        {
            head.Append("Sec-WebSocket-Protocol: ").AppendJoin(", ", options.SubProtocols).Append("\r\n");
        }
        if (options.Connection.Compression is { } compression)
        {
            head.Append("Sec-WebSocket-Extensions: ").Append(PerMessageDeflateNegotiation.Offer(compression)).Append("\r\n");
        }
        foreach ((string name, string value) in options.Headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }
        head.Append("\r\n");
        return Encoding.Latin1.GetBytes(head.ToString());
    }

    /// <summary>Gives up (the connect timed out, or was cancelled): the transport is aborted and the result fails.</summary>
    public void Fail(Exception error)
    {
        if (_result.TrySetException(error))
        {
            _transport?.Abort();
        }
    }

    public override void ConnectionMade(Transport transport)
    {
        _transport = transport;
        transport.Write(_request);
    }

    public override void DataReceived(ReadOnlySpan<byte> data)
    {
        if (_result.Task.IsCompleted)
        {
            return;
        }
        int searchFrom = Math.Max(0, _head.Length - 3);
        _head.Append(data);
        int end = _head.Span[searchFrom..].IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            if (_head.Length > MaxHeadBytes)
            {
                Fail(new WebSocketHandshakeException(WebSocketHandshakeFailure.BadResponse, $"The server's answer has no end of head within {MaxHeadBytes / 1024} KiB."));
            }
            return;
        }
        end += searchFrom;
        string head = Encoding.Latin1.GetString(_head.Span[..end]);
        WebSocketHandshakeException? failure = CheckAnswer(head, out string? subProtocol, out string? extensions, out DeflateParameters agreed);
        if (failure is not null)
        {
            Fail(failure);
            return;
        }
        var connection = new WebSocketConnection(_loop, _options.Connection, _heartbeat, isServer: false, subProtocol,
            extensions, extensions is null ? null : agreed);
        Transport transport = _transport!;
        transport.Protocol = connection.Protocol;
        connection.Protocol.ConnectionMade(transport);
        ReadOnlySpan<byte> rest = _head.Span[(end + 4)..];
        if (!rest.IsEmpty)
        {
            connection.Protocol.DataReceived(rest); // frames the server sent right after its 101
        }
        _head.Release();
        _result.TrySetResult(connection);
    }

    public override bool EofReceived()
    {
        Fail(new WebSocketHandshakeException(WebSocketHandshakeFailure.ConnectionClosed, "The server closed the connection before its answer to the WebSocket handshake was complete."));
        return false;
    }

    public override void ConnectionLost(Exception? error) =>
        Fail(new WebSocketHandshakeException(WebSocketHandshakeFailure.ConnectionClosed, "The connection was lost before the server's answer to the WebSocket handshake was complete."));

    /// <summary>§4.1: the checks a client must make of the server's answer; null when it is an acceptable 101.</summary>
    private WebSocketHandshakeException? CheckAnswer(string head, out string? subProtocol, out string? agreedExtensions, out DeflateParameters agreed)
    {
        subProtocol = null;
        agreedExtensions = null;
        agreed = default;
        string[] lines = head.Split("\r\n");
        string[] status = lines[0].Split(' ', 3);
        if (status.Length < 2 || status[0] != "HTTP/1.1" || status[1].Length != 3 || !int.TryParse(status[1], out int code))
        {
            return new WebSocketHandshakeException(WebSocketHandshakeFailure.BadResponse, $"The server's answer is not an HTTP/1.1 status line: \"{Printable(lines[0])}\".");
        }
        var fields = new List<KeyValuePair<string, string>>(lines.Length - 1);
        for (int i = 1; i < lines.Length; i++)
        {
            int colon = lines[i].IndexOf(':');
            if (colon <= 0)
            {
                return new WebSocketHandshakeException(WebSocketHandshakeFailure.BadResponse, $"The server's answer has a malformed field line: \"{Printable(lines[i])}\".", code);
            }
            fields.Add(new(lines[i][..colon], lines[i][(colon + 1)..].Trim(' ', '\t')));
        }
        if (code != 101)
        {
            string? location = Field(fields, "Location");
            string where = location is null ? "" : $" to {Printable(location)} (redirects are not followed)";
            return new WebSocketHandshakeException(WebSocketHandshakeFailure.BadStatus,
                $"The server refused the WebSocket handshake: {code} {Printable(status.Length > 2 ? status[2] : "")}{where}.", code);
        }
        if (!HasToken(fields, "Upgrade", "websocket") || !HasToken(fields, "Connection", "upgrade"))
        {
            return new WebSocketHandshakeException(WebSocketHandshakeFailure.MissingUpgrade, "The server's 101 lacks \"Upgrade: websocket\" or \"Connection: Upgrade\".", code);
        }
        string? accept = Field(fields, "Sec-WebSocket-Accept");
        if (accept != _expectedAccept)
        {
            return new WebSocketHandshakeException(WebSocketHandshakeFailure.BadAccept,
                accept is null ? "The server's 101 has no Sec-WebSocket-Accept." : $"The server's Sec-WebSocket-Accept \"{Printable(accept)}\" does not match the key sent (expected \"{_expectedAccept}\").", code);
        }
        string? extensions = Field(fields, "Sec-WebSocket-Extensions");
        if (!string.IsNullOrEmpty(extensions))
        {
            if (_options.Connection.Compression is not { } compression)
            {
                return new WebSocketHandshakeException(WebSocketHandshakeFailure.UnexpectedExtension, $"The server answered with extensions that were not offered: \"{Printable(extensions)}\".", code);
            }
            if (PerMessageDeflateNegotiation.CheckAnswer(extensions, compression, out agreed) is { } problem)
            {
                return new WebSocketHandshakeException(WebSocketHandshakeFailure.UnexpectedExtension, $"The server's Sec-WebSocket-Extensions \"{Printable(extensions)}\" is refused: {problem}.", code);
            }
            agreedExtensions = extensions;
        }
        string? chosen = Field(fields, "Sec-WebSocket-Protocol");
        if (chosen is not null)
        {
            if (!_options.SubProtocols.Contains(chosen))
            {
                return new WebSocketHandshakeException(WebSocketHandshakeFailure.UnexpectedSubProtocol,
                    _options.SubProtocols.Count == 0
                        ? $"The server chose the subprotocol \"{Printable(chosen)}\", but none was offered."
                        : $"The server chose the subprotocol \"{Printable(chosen)}\", which is not one of those offered ({string.Join(", ", _options.SubProtocols)}).", code);
            }
            subProtocol = chosen;
        }
        return null;
    }

    /// <summary>The values of every field <paramref name="name"/>, joined as one list (RFC 9110 §5.3); null when there is none.</summary>
    private static string? Field(List<KeyValuePair<string, string>> fields, string name)
    {
        string? value = null;
        foreach ((string fieldName, string fieldValue) in fields)
        {
            if (fieldName.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                value = value is null ? fieldValue : value + ", " + fieldValue;
            }
        }
        return value;
    }

    private static bool HasToken(List<KeyValuePair<string, string>> fields, string name, string token) =>
        Field(fields, name) is { } value && WebSocketHandshake.Tokens(value).Any(t => t.Equals(token, StringComparison.OrdinalIgnoreCase));

    /// <summary>Server text in a message: at most 200 characters, control characters shown as '?'.</summary>
    private static string Printable(string text)
    {
        string cut = text.Length > 200 ? text[..200] + "…" : text;
        return string.Create(cut.Length, cut, static (span, s) =>
        {
            for (int i = 0; i < s.Length; i++)
            {
                span[i] = char.IsControl(s[i]) ? '?' : s[i];
            }
        });
    }
}
