using System.Security.Cryptography;
using System.Text;
using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.WebSockets.Internal;

/// <summary>Why a handshake was refused, and with which status.</summary>
internal enum HandshakeFailure : byte
{
    None,
    NotGet,
    NotHttp11,
    HasBody,
    NoUpgradeToken,
    NoConnectionToken,
    BadKey,
    BadVersion,
    OriginRefused,
}

/// <summary>The server's side of the opening handshake (RFC 6455 §4.2): checking the request, and the answer's fields.</summary>
internal static class WebSocketHandshake
{
    /// <summary>§1.3: the GUID appended to the key before hashing.</summary>
    private static ReadOnlySpan<byte> Guid => "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"u8;

    /// <summary>Whether the request asks for a WebSocket upgrade at all (an <c>Upgrade</c> field with the <c>websocket</c> token).</summary>
    public static bool IsUpgradeRequest(HttpRequest request) => HasToken(request.Headers, "Upgrade", "websocket");

    /// <summary>Checks the request as §4.2.1 says a server must; on success, the key.</summary>
    public static HandshakeFailure Validate(HttpRequest request, WebSocketOptions options, out string key)
    {
        key = "";
        HttpRequestHeaders headers = request.Headers;
        if (request.Verb != HttpVerb.Get)
        {
            return HandshakeFailure.NotGet;
        }
        if (request.Version != HttpProtocolVersion.Http11)
        {
            return HandshakeFailure.NotHttp11;
        }
        if (request.BodyKind != HttpBodyKind.None)
        {
            return HandshakeFailure.HasBody;
        }
        if (!HasToken(headers, "Upgrade", "websocket"))
        {
            return HandshakeFailure.NoUpgradeToken;
        }
        if (!HasToken(headers, "Connection", "upgrade"))
        {
            return HandshakeFailure.NoConnectionToken;
        }
        string? value = SingleValue(headers, "Sec-WebSocket-Key");
        if (value is null || !IsValidKey(value.Trim()))
        {
            return HandshakeFailure.BadKey;
        }
        string? version = SingleValue(headers, "Sec-WebSocket-Version");
        if (version is null || version.Trim() != "13")
        {
            return HandshakeFailure.BadVersion;
        }
        if (options.OriginCheck is { } check && !check(headers["Origin"]))
        {
            return HandshakeFailure.OriginRefused;
        }
        key = value.Trim();
        return HandshakeFailure.None;
    }

    /// <summary>§4.1: "a nonce consisting of a randomly selected 16-byte value that has been base64-encoded".</summary>
    public static bool IsValidKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key.Length == 24 && Convert.TryFromBase64String(key, decoded, out int length) && length == 16;
    }

    /// <summary>§4.2.2: base64(SHA-1(key + GUID)), with the platform's SHA-1.</summary>
    public static string ComputeAccept(string key)
    {
        Span<byte> input = stackalloc byte[key.Length + Guid.Length];
        int n = Encoding.ASCII.GetBytes(key, input);
        Guid.CopyTo(input[n..]);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(input, hash);
        return Convert.ToBase64String(hash);
    }

    /// <summary>
    /// The subprotocol to answer with: the first the client offers (in its order, across every
    /// <c>Sec-WebSocket-Protocol</c> field) that the server speaks; null when there is none.
    /// </summary>
    public static string? SelectSubProtocol(HttpRequestHeaders headers, IReadOnlyList<string> supported)
    {
        if (supported.Count == 0)
        {
            return null;
        }
        for (int i = 0; i < headers.Count; i++)
        {
            if (!headers.NameEquals(i, "Sec-WebSocket-Protocol"u8))
            {
                continue;
            }
            foreach (string offered in Tokens(headers.ValueAt(i)))
            {
                foreach (string candidate in supported)
                {
                    if (string.Equals(candidate, offered, StringComparison.Ordinal)) // subprotocol names are case-sensitive (§4.1)
                    {
                        return candidate;
                    }
                }
            }
        }
        return null;
    }

    /// <summary>Whether any field <paramref name="name"/> lists <paramref name="token"/> (comma-separated, case-insensitive: RFC 9110 §5.6.1, §7.8).</summary>
    public static bool HasToken(HttpRequestHeaders headers, string name, string token)
    {
        foreach (string value in FieldValues(headers, name))
        {
            foreach (string item in Tokens(value))
            {
                if (item.Equals(token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>The items of a comma-separated field value, trimmed, without empty ones.</summary>
    public static IEnumerable<string> Tokens(string value)
    {
        foreach (string item in value.Split(','))
        {
            string trimmed = item.Trim(' ', '\t');
            if (trimmed.Length > 0)
            {
                yield return trimmed;
            }
        }
    }

    /// <summary>The values of every field <paramref name="name"/>, in order.</summary>
    public static IEnumerable<string> FieldValues(HttpRequestHeaders headers, string name)
    {
        for (int i = 0; i < headers.Count; i++)
        {
            if (Ascii.EqualsIgnoreCase(headers.NameAt(i), name))
            {
                yield return headers.ValueAt(i);
            }
        }
    }

    /// <summary>The value of a field that must appear once; null when it is missing or repeated.</summary>
    private static string? SingleValue(HttpRequestHeaders headers, string name)
    {
        string? found = null;
        foreach (string value in FieldValues(headers, name))
        {
            if (found is not null)
            {
                return null;
            }
            found = value;
        }
        return found;
    }

    /// <summary>The refusal's status and text: 426 with the version we speak for a version we do not (§4.2.2), 403 for an origin, else 400.</summary>
    public static void Refuse(HttpResponse response, HandshakeFailure failure)
    {
        switch (failure)
        {
            case HandshakeFailure.BadVersion:
                response.StatusCode = 426;
                response.Headers.Set("Sec-WebSocket-Version", "13");
                response.Text("This WebSocket endpoint speaks version 13 (RFC 6455).\n");
                return;
            case HandshakeFailure.OriginRefused:
                response.StatusCode = 403;
                response.Text("This origin may not open a WebSocket here.\n");
                return;
        }
        response.StatusCode = 400;
        response.Text(failure switch
        {
            HandshakeFailure.NotGet => "A WebSocket handshake is a GET request.\n",
            HandshakeFailure.NotHttp11 => "A WebSocket handshake is an HTTP/1.1 request.\n",
            HandshakeFailure.HasBody => "A WebSocket handshake has no body.\n",
            HandshakeFailure.NoUpgradeToken => "This is a WebSocket endpoint: the request needs \"Upgrade: websocket\".\n",
            HandshakeFailure.NoConnectionToken => "A WebSocket handshake needs \"Connection: Upgrade\".\n",
            _ => "A WebSocket handshake needs one Sec-WebSocket-Key: 16 bytes in base64.\n",
        });
    }
}
