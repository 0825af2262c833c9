namespace Eddy.Http.Parsing;

/// <summary>
/// Receives the trailer fields after a chunked body (RFC 9112 §7.1.2) from <see cref="ChunkedDecoder"/>.
/// Trailers are not headers: RFC 9110 §6.5.1 forbids merging them into the header fields unless the
/// field's definition allows it, so they arrive here, separately. Implement it on a struct.
/// </summary>
public interface IHttpTrailerHandler
{
    /// <summary>One trailer field line, parsed and checked like a header field line; spans valid only during the call.</summary>
    void OnTrailer(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value);
}
