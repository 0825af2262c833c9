namespace Eddy.Http.Parsing;

/// <summary>
/// The request method, for the methods of RFC 9110 §9 and PATCH (RFC 5789). Methods are
/// case-sensitive (RFC 9110 §9.1): <c>get</c> is a valid extension method, not GET. Any other token is
/// <see cref="Extension"/>, and <see cref="HttpRequestLine.Method"/> holds its bytes.
/// </summary>
public enum HttpVerb : byte
{
    /// <summary>A method token this enum does not name; read <see cref="HttpRequestLine.Method"/>.</summary>
    Extension = 0,
    /// <summary><c>GET</c>.</summary>
    Get,
    /// <summary><c>HEAD</c>: the fields of a GET, no body.</summary>
    Head,
    /// <summary><c>POST</c>.</summary>
    Post,
    /// <summary><c>PUT</c>.</summary>
    Put,
    /// <summary><c>DELETE</c>.</summary>
    Delete,
    /// <summary><c>OPTIONS</c>; with the target <c>*</c>, a question about the server itself.</summary>
    Options,
    /// <summary><c>PATCH</c>.</summary>
    Patch,
    /// <summary><c>TRACE</c>.</summary>
    Trace,
    /// <summary><c>CONNECT</c>: a tunnel to the authority-form target.</summary>
    Connect,
}
