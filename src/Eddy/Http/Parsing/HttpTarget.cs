using System.Text;

namespace Eddy.Http.Parsing;

/// <summary>Splitting and decoding a request-target (RFC 9112 §3.2, RFC 3986).</summary>
public static class HttpTarget
{
    /// <summary>
    /// The path part of a target: up to <c>?</c> or <c>#</c>; for absolute-form (<c>http://host:80/a?b</c>)
    /// without the scheme and authority (<c>/a</c>; <c>/</c> when empty); <c>*</c> for asterisk-form.
    /// </summary>
    public static ReadOnlySpan<byte> PathBytes(ReadOnlySpan<byte> target)
    {
        // Origin-form (the usual "/path") first: only another form is searched for "://".
        int schemeEnd;
        if (!target.IsEmpty && target[0] != (byte)'/' && (schemeEnd = target.IndexOf("://"u8)) > 0)
        {
            ReadOnlySpan<byte> rest = target[(schemeEnd + 3)..];
            int pathStart = rest.IndexOfAny((byte)'/', (byte)'?', (byte)'#');
            target = pathStart < 0 || rest[pathStart] != (byte)'/' ? "/"u8 : rest[pathStart..];
        }
        int end = target.IndexOfAny((byte)'?', (byte)'#');
        return end < 0 ? target : target[..end];
    }

    /// <summary>The query: after the first <c>?</c>, up to <c>#</c>; empty when there is none.</summary>
    public static ReadOnlySpan<byte> QueryBytes(ReadOnlySpan<byte> target)
    {
        int start = target.IndexOf((byte)'?');
        if (start < 0)
        {
            return default;
        }
        ReadOnlySpan<byte> query = target[(start + 1)..];
        int fragment = query.IndexOf((byte)'#');
        return fragment < 0 ? query : query[..fragment];
    }

    /// <summary>Percent-decodes a path as UTF-8 (invalid sequences become U+FFFD). <c>+</c> stays <c>+</c> in a path.</summary>
    public static string DecodePath(ReadOnlySpan<byte> path) => Decode(path, plusIsSpace: false);

    /// <summary>Parses <c>a=1&amp;b=x+y</c> into decoded names and values; the first value of a repeated name wins.</summary>
    public static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=');
            string name = Decode(Encoding.Latin1.GetBytes(eq < 0 ? pair : pair[..eq]), plusIsSpace: true);
            string value = eq < 0 ? "" : Decode(Encoding.Latin1.GetBytes(pair[(eq + 1)..]), plusIsSpace: true);
            result.TryAdd(name, value);
        }
        return result;
    }

    private static string Decode(ReadOnlySpan<byte> encoded, bool plusIsSpace)
    {
        if (encoded.IndexOfAny((byte)'%', (byte)'+') < 0)
        {
            return Encoding.UTF8.GetString(encoded);
        }
        byte[] bytes = new byte[encoded.Length];
        int n = 0;
        for (int i = 0; i < encoded.Length; i++)
        {
            byte b = encoded[i];
            if (b == (byte)'%' && i + 2 < encoded.Length && IsHex(encoded[i + 1]) && IsHex(encoded[i + 2]))
            {
                bytes[n++] = (byte)((HexValue(encoded[i + 1]) << 4) | HexValue(encoded[i + 2]));
                i += 2;
            }
            else
            {
                bytes[n++] = plusIsSpace && b == (byte)'+' ? (byte)' ' : b;
            }
        }
        return Encoding.UTF8.GetString(bytes, 0, n);
    }

    private static bool IsHex(byte b) => char.IsAsciiHexDigit((char)b);

    private static int HexValue(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
