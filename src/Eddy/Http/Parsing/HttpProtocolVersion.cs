namespace Eddy.Http.Parsing;

/// <summary>
/// The HTTP versions the parser accepts (RFC 9112 §2.3). Any other well-formed <c>HTTP/x.y</c> is
/// rejected with <see cref="HttpRejectReason.UnsupportedVersion"/> (505). Named so as not to collide
/// with <c>System.Net.HttpVersion</c>.
/// </summary>
public enum HttpProtocolVersion : byte
{
    /// <summary>HTTP/1.0: a connection is kept alive only with <c>Connection: keep-alive</c>.</summary>
    Http10 = 10,
    /// <summary>HTTP/1.1: connections are persistent unless <c>Connection: close</c>.</summary>
    Http11 = 11,
}
