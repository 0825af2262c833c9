using System.Collections;
using System.Diagnostics.CodeAnalysis;
using Eddy.Http.Internal;

namespace Eddy.Http;

/// <summary>
/// The cookies of a request, from every <c>Cookie</c> field in order (RFC 6265 §5.4; HTTP/2 clients and some
/// proxies send several). Parsed when first asked for: a request that never looks costs nothing. Lenient as
/// §5.4 asks: a malformed pair (no <c>=</c>, a name that is not a token, a value with controls, whitespace,
/// DQUOTE, comma or backslash, or longer than 4096 bytes) is skipped and counted in <see cref="Skipped"/>, the
/// others kept. Double quotes around a value are removed; an empty value is kept as "". Values are not
/// percent-decoded; bytes above 0x7F are read as UTF-8. The first of a repeated name wins. At most 200
/// cookies are taken. Names are case-sensitive. Valid until the handler's task completes.
/// </summary>
public sealed class HttpRequestCookies : IReadOnlyDictionary<string, string>
{
    private readonly Dictionary<string, string> _cookies = new(StringComparer.Ordinal);

    internal HttpRequestCookies(HttpRequest request)
    {
        for (int i = 0; i < request.HeaderCount; i++)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(request.HeaderName(i, trailer: false), "Cookie"u8))
            {
                Skipped += CookieRules.Parse(request.HeaderValue(i, trailer: false), _cookies);
            }
        }
    }

    /// <summary>How many malformed pairs were skipped.</summary>
    public int Skipped { get; }

    /// <summary>The value of cookie <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> when there is none.</summary>
    public string this[string name] => _cookies[name];

    /// <summary>How many cookies there are.</summary>
    public int Count => _cookies.Count;

    /// <summary>The cookie names.</summary>
    public IEnumerable<string> Keys => _cookies.Keys;

    /// <summary>The cookie values.</summary>
    public IEnumerable<string> Values => _cookies.Values;

    /// <summary>Whether the request has cookie <paramref name="name"/>.</summary>
    public bool ContainsKey(string name) => _cookies.ContainsKey(name);

    /// <summary>The value of cookie <paramref name="name"/>, if the request has it.</summary>
    public bool TryGetValue(string name, [MaybeNullWhen(false)] out string value) => _cookies.TryGetValue(name, out value);

    /// <summary>The cookies, name and value.</summary>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _cookies.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
