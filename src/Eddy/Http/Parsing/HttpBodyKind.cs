namespace Eddy.Http.Parsing;

/// <summary>How the body of a request is framed (RFC 9112 §6.3).</summary>
public enum HttpBodyKind : byte
{
    /// <summary>Neither Transfer-Encoding nor Content-Length: the request has no body (RFC 9112 §6.3, rule 7).</summary>
    None,

    /// <summary>Content-Length bytes follow the head; read them with <see cref="ContentLengthDecoder"/>.</summary>
    ContentLength,

    /// <summary>Transfer-Encoding: chunked; read the body with <see cref="ChunkedDecoder"/>.</summary>
    Chunked,
}
