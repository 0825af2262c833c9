namespace Eddy.Http;

/// <summary>The <c>SameSite</c> attribute of a cookie (RFC 6265bis §4.1.2.7): when a browser sends it with cross-site requests.</summary>
public enum SameSiteMode
{
    /// <summary>No attribute: the browser's default (Lax in current browsers).</summary>
    Unspecified,

    /// <summary><c>SameSite=None</c>: sent with cross-site requests too. Browsers require <c>Secure</c> with it, so Eddy refuses it without.</summary>
    None,

    /// <summary><c>SameSite=Lax</c>: sent with top-level navigations from other sites, not with their subrequests.</summary>
    Lax,

    /// <summary><c>SameSite=Strict</c>: sent only with requests from the same site.</summary>
    Strict,
}
