
namespace Eddy.Http.Parsing;

/// <summary>
/// Why a request was rejected. Each reason maps to one status code
/// (<see cref="HttpRejectException.GetStatusCode"/>); the table at the top of <c>HttpParser.cs</c> says which
/// input gives which reason.
/// </summary>
public enum HttpRejectReason : byte
{
    /// <summary>400: the request-line is not <c>method SP request-target SP HTTP-version</c> with single spaces.</summary>
    InvalidRequestLine,

    /// <summary>400: the method is not a token.</summary>
    InvalidMethod,

    /// <summary>400: a byte the request-target may not hold, or a form the method does not allow.</summary>
    InvalidRequestTarget,

    /// <summary>400: the version is not <c>HTTP/DIGIT.DIGIT</c>.</summary>
    InvalidVersion,

    /// <summary>505: a well-formed version other than HTTP/1.0 and HTTP/1.1.</summary>
    UnsupportedVersion,

    /// <summary>414: the request-line is longer than <see cref="HttpParserLimits.MaxRequestLineLength"/>.</summary>
    RequestLineTooLong,

    /// <summary>400: a line ends in a bare LF, or a CR is not followed by LF.</summary>
    InvalidLineTerminator,

    /// <summary>400: a field line without a colon.</summary>
    InvalidHeaderLine,

    /// <summary>400: a field name that is empty or not a token.</summary>
    InvalidFieldName,

    /// <summary>400: whitespace between a field name and its colon (RFC 9112 §5.1).</summary>
    WhitespaceBeforeColon,

    /// <summary>400: a field line that starts with whitespace: obs-fold (RFC 9112 §5.2), or whitespace after the request-line (RFC 9112 §2.2).</summary>
    ObsFold,

    /// <summary>400: a control character (NUL, CR, ...) or DEL in a field value.</summary>
    InvalidFieldValue,

    /// <summary>431: the field lines are longer in total than <see cref="HttpParserLimits.MaxHeaderBytes"/>.</summary>
    HeadersTooLarge,

    /// <summary>431: more field lines than <see cref="HttpParserLimits.MaxHeaderCount"/>.</summary>
    TooManyHeaders,

    /// <summary>400: an HTTP/1.1 request without Host (RFC 9112 §3.2).</summary>
    MissingHost,

    /// <summary>400: more than one Host field line (RFC 9112 §3.2).</summary>
    DuplicateHost,

    /// <summary>400: a Host value that is not <c>uri-host [":" port]</c>.</summary>
    InvalidHost,

    /// <summary>400: a Content-Length that is not 1*DIGIT (sign, space, hex, empty) or overflows a long.</summary>
    InvalidContentLength,

    /// <summary>400: Content-Length values that differ (RFC 9110 §8.6).</summary>
    ConflictingContentLength,

    /// <summary>400: Transfer-Encoding and Content-Length together: a request smuggling attempt (RFC 9112 §6.3, rule 3).</summary>
    TransferEncodingWithContentLength,

    /// <summary>400: Transfer-Encoding in an HTTP/1.0 request, whose framing is then faulty (RFC 9112 §6.1).</summary>
    TransferEncodingInHttp10,

    /// <summary>400: chunked is not the final transfer coding, is applied twice, or no coding is named (RFC 9112 §6.3, rule 4).</summary>
    ChunkedNotFinal,

    /// <summary>501: a transfer coding other than chunked (RFC 9112 §6.1).</summary>
    UnsupportedTransferCoding,

    /// <summary>400: a chunk-size that is empty, not hex, followed by junk, or over 16 digits or a long.</summary>
    InvalidChunkSize,

    /// <summary>400: a byte a chunk extension may not hold.</summary>
    InvalidChunkExtension,

    /// <summary>400: the extensions of one chunk are longer than <see cref="HttpParserLimits.MaxChunkExtensionLength"/>.</summary>
    ChunkExtensionTooLong,

    /// <summary>400: chunk data not followed by CRLF.</summary>
    MissingChunkTerminator,

    /// <summary>413: the body is longer than the limit (<see cref="HttpServerOptions.MaxRequestBodySize"/>, <see cref="HttpRequest.MaxBodySize"/>).</summary>
    BodyTooLarge,

    /// <summary>400: the client ended the connection (EOF) before the body it announced was complete.</summary>
    IncompleteBody,

    /// <summary>408: the body arrived slower than <see cref="HttpServerOptions.MinRequestBodyDataRate"/>.</summary>
    BodyTimeout,

    /// <summary>400: a form body (urlencoded or multipart) is malformed; the message says how (read by <c>Eddy.Web.Forms</c>).</summary>
    InvalidForm,

    /// <summary>413: a form body is over one of its limits (parts, part header, field or total size); the message says which.</summary>
    FormTooLarge,
}
