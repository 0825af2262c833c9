using System.Buffers;
using System.Text;

namespace Eddy.Http.Internal;

/// <summary>
/// The grammar of RFC 6265 §4.1.1 for both directions: the <c>Cookie</c> field a client sends (parsed leniently
/// as §5.4 asks: a malformed pair is skipped, the others kept) and the <c>Set-Cookie</c> field the server writes
/// (validated strictly: a bad name or value is the application's mistake, refused at the call).
/// </summary>
internal static class CookieRules
{
    /// <summary>At most this many cookies are taken from a request's Cookie fields; the rest are ignored (browsers send ~180 per domain at most).</summary>
    public const int MaxCount = 200;

    /// <summary>A pair (name and value) longer than this is skipped: RFC 6265 §6.1 asks user agents for at least 4096 bytes per cookie, and browsers stop there.</summary>
    public const int MaxPairBytes = 4096;

    /// <summary>cookie-name is a token (RFC 6265 §4.1.1, RFC 9110 §5.6.2).</summary>
    private static readonly SearchValues<byte> s_tokenBytes = SearchValues.Create("!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz|~"u8);

    private static readonly SearchValues<char> s_tokenChars = SearchValues.Create("!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz|~");

    /// <summary>cookie-octet: US-ASCII except CTLs, whitespace, DQUOTE, comma, semicolon and backslash (§4.1.1).</summary>
    private static readonly SearchValues<char> s_cookieOctets = SearchValues.Create(CookieOctets());

    /// <summary>As <see cref="s_cookieOctets"/>, plus bytes 0x80-0xFF: browsers send UTF-8 values a server set, and they are taken as UTF-8.</summary>
    private static readonly SearchValues<byte> s_receivedValueBytes = SearchValues.Create([.. CookieOctets().Select(c => (byte)c), .. Enumerable.Range(0x80, 0x80).Select(b => (byte)b)]);

    /// <summary>av-octet: any CHAR except CTLs or ";" (§4.1.1): what Path and Domain may hold.</summary>
    private static readonly SearchValues<char> s_attributeChars = SearchValues.Create([.. Enumerable.Range(0x20, 0x7F - 0x20).Select(c => (char)c).Where(c => c != ';')]);

    private static string CookieOctets() =>
        new([.. Enumerable.Range(0x21, 0x7E - 0x21 + 1).Select(c => (char)c).Where(c => c is not ('"' or ',' or ';' or '\\'))]);

    /// <summary>
    /// Adds the pairs of one Cookie field value to <paramref name="cookies"/>: <c>name=value</c> separated by
    /// <c>;</c> and optional whitespace. A pair without <c>=</c>, with a name that is not a token, a value with
    /// bytes outside cookie-octet (a quoted value loses its quotes first), or longer than <see cref="MaxPairBytes"/>
    /// is skipped. An empty value is a value. The first of a repeated name wins (§5.4 sends the most specific
    /// path first). Stops at <see cref="MaxCount"/> cookies. Returns how many pairs were skipped.
    /// </summary>
    public static int Parse(ReadOnlySpan<byte> field, Dictionary<string, string> cookies)
    {
        int skipped = 0;
        while (!field.IsEmpty && cookies.Count < MaxCount)
        {
            int end = field.IndexOf((byte)';');
            ReadOnlySpan<byte> pair = Trim(end < 0 ? field : field[..end]);
            field = end < 0 ? default : field[(end + 1)..];
            if (pair.IsEmpty)
            {
                continue; // "a=1;;b=2" or a trailing ";": nothing there, nothing skipped
            }
            int equals = pair.IndexOf((byte)'=');
            if (equals <= 0 || pair.Length > MaxPairBytes)
            {
                skipped++;
                continue;
            }
            ReadOnlySpan<byte> name = Trim(pair[..equals]);
            ReadOnlySpan<byte> value = Trim(pair[(equals + 1)..]);
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = value[1..^1]; // cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE )
            }
            if (name.IsEmpty || name.ContainsAnyExcept(s_tokenBytes) || value.ContainsAnyExcept(s_receivedValueBytes))
            {
                skipped++;
                continue;
            }
            string key = Encoding.ASCII.GetString(name);
            if (!cookies.ContainsKey(key))
            {
                cookies.Add(key, value.IsEmpty ? "" : Encoding.UTF8.GetString(value));
            }
        }
        return skipped;
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> span) => span.Trim(" \t"u8);

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="name"/> is a token.</summary>
    public static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.AsSpan().ContainsAnyExcept(s_tokenChars))
        {
            throw new ArgumentException($"'{Printable(name)}' is not a valid cookie name: it must be a token (RFC 6265 §4.1.1), without controls, whitespace or separators such as ()<>@,;:\\\"/[]?={{}}.", nameof(name));
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="value"/> is cookie-octets, optionally in double quotes.</summary>
    public static void ValidateValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        ReadOnlySpan<char> inner = value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value.AsSpan(1, value.Length - 2) : value;
        if (inner.ContainsAnyExcept(s_cookieOctets))
        {
            throw new ArgumentException($"'{Printable(value)}' is not a valid cookie value: it may hold visible US-ASCII except DQUOTE, comma, semicolon and backslash (RFC 6265 §4.1.1); encode other data (e.g. Uri.EscapeDataString or base64url) first.", nameof(value));
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> when an attribute value (Path, Domain) holds a control or <c>;</c>.</summary>
    public static void ValidateAttribute(string value, string attribute)
    {
        if (value.Length == 0 || value.AsSpan().ContainsAnyExcept(s_attributeChars))
        {
            throw new ArgumentException($"'{Printable(value)}' is not a valid cookie {attribute}: it must be non-empty, without controls or ';' (RFC 6265 §4.1.1).", attribute);
        }
    }

    private static string Printable(string text) =>
        string.Concat(text.Select(c => c < 0x20 || c == 0x7F ? $"\\x{(int)c:X2}" : c.ToString()));
}
