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
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Patch,
    Trace,
    Connect,
}
