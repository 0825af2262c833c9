using System.Globalization;
using System.Text;
using Eddy.Http.Internal;

namespace Eddy.Http;

/// <summary>
/// Sets and deletes cookies on a response: each call adds one <c>Set-Cookie</c> field (RFC 6265 §4.1) to
/// <see cref="HttpResponse.Headers"/>. Names must be tokens and values cookie-octets (optionally quoted): a name
/// or value with a control character, whitespace or a separator is refused with an <see cref="ArgumentException"/>
/// at the call, as are a Path or Domain with a control or <c>;</c>, and <c>SameSite=None</c> without
/// <c>Secure</c> (browsers drop such a cookie; Eddy says so rather than let it vanish). Values are written as
/// given, not encoded. Only before the response has started. Loop thread only.
/// </summary>
public sealed class HttpResponseCookies
{
    private readonly HttpResponse _response;

    internal HttpResponseCookies(HttpResponse response) => _response = response;

    /// <summary>Adds <c>Set-Cookie: name=value</c> with the attributes of <paramref name="options"/>.</summary>
    public void Append(string name, string value, CookieOptions? options = null)
    {
        CookieRules.ValidateName(name);
        CookieRules.ValidateValue(value);
        Add(name, value, options, expired: false);
    }

    /// <summary>
    /// Asks the browser to delete cookie <paramref name="name"/>: an empty value that expired in 1970 with
    /// <c>Max-Age=0</c>. Give the Path and Domain it was set with: a cookie is identified by them too.
    /// </summary>
    public void Delete(string name, CookieOptions? options = null)
    {
        CookieRules.ValidateName(name);
        Add(name, "", options, expired: true);
    }

    private void Add(string name, string value, CookieOptions? options, bool expired)
    {
        if (_response.HasStarted)
        {
            throw new InvalidOperationException("The response has started: its fields, Set-Cookie included, were sent already.");
        }
        var field = new StringBuilder(name.Length + value.Length + 64).Append(name).Append('=').Append(value);
        if (options?.Path is { } path)
        {
            CookieRules.ValidateAttribute(path, "Path");
            field.Append("; Path=").Append(path);
        }
        if (options?.Domain is { } domain)
        {
            CookieRules.ValidateAttribute(domain, "Domain");
            field.Append("; Domain=").Append(domain);
        }
        if (expired)
        {
            field.Append("; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0");
        }
        else
        {
            if (options?.Expires is { } expires)
            {
                field.Append("; Expires=").Append(expires.UtcDateTime.ToString("r", CultureInfo.InvariantCulture)); // IMF-fixdate (RFC 9110 §5.6.7)
            }
            if (options?.MaxAge is { } maxAge)
            {
                field.Append("; Max-Age=").Append(((long)Math.Floor(maxAge.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
            }
        }
        if (options is { Secure: true })
        {
            field.Append("; Secure");
        }
        if (options is { HttpOnly: true })
        {
            field.Append("; HttpOnly");
        }
        switch (options?.SameSite ?? SameSiteMode.Unspecified)
        {
            case SameSiteMode.None when !options!.Secure:
                throw new ArgumentException("SameSite=None requires Secure: browsers reject such a cookie (RFC 6265bis §4.1.2.7). Set Secure = true, or choose Lax or Strict.", nameof(options));
            case SameSiteMode.None:
                field.Append("; SameSite=None");
                break;
            case SameSiteMode.Lax:
                field.Append("; SameSite=Lax");
                break;
            case SameSiteMode.Strict:
                field.Append("; SameSite=Strict");
                break;
        }
        _response.Headers.Add("Set-Cookie", field.ToString());
    }
}
