namespace Eddy.Http;

/// <summary>
/// The attributes of a cookie set with <see cref="HttpResponseCookies.Append"/> (RFC 6265 §4.1.1). Null or
/// false leaves an attribute out. An immutable record: one instance can serve every response.
/// </summary>
public sealed record CookieOptions
{
    /// <summary>The path the cookie is sent for (<c>Path=</c>); null: the browser's default, the request path's directory.</summary>
    public string? Path { get; init; }

    /// <summary>The domain the cookie is sent to, subdomains included (<c>Domain=</c>); null: this host only.</summary>
    public string? Domain { get; init; }

    /// <summary>When the cookie expires (<c>Expires=</c>, an IMF-fixdate in GMT); null with no <see cref="MaxAge"/>: a session cookie.</summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary>How long the cookie lives, in whole seconds (<c>Max-Age=</c>); browsers prefer it to <see cref="Expires"/>.</summary>
    public TimeSpan? MaxAge { get; init; }

    /// <summary>Only sent over HTTPS (<c>Secure</c>).</summary>
    public bool Secure { get; init; }

    /// <summary>Hidden from scripts (<c>HttpOnly</c>).</summary>
    public bool HttpOnly { get; init; }

    /// <summary>The <c>SameSite</c> attribute; <see cref="SameSiteMode.None"/> requires <see cref="Secure"/>.</summary>
    public SameSiteMode SameSite { get; init; }
}
