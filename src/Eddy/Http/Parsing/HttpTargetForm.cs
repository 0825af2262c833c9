namespace Eddy.Http.Parsing;

/// <summary>The four forms of request-target (RFC 9112 §3.2).</summary>
public enum HttpTargetForm : byte
{
    /// <summary><c>/path?query</c>: the usual form (RFC 9112 §3.2.1).</summary>
    Origin,

    /// <summary><c>http://host/path</c>: sent to proxies, and which servers must accept (RFC 9112 §3.2.2).</summary>
    Absolute,

    /// <summary><c>host:port</c>: CONNECT only, and CONNECT only takes this form (RFC 9112 §3.2.3).</summary>
    Authority,

    /// <summary><c>*</c>: OPTIONS only (RFC 9112 §3.2.4).</summary>
    Asterisk,
}
