using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;

namespace Eddy.Http.Parsing.Internal;

/// <summary>
/// Throws <see cref="HttpRejectException"/>. Every throw goes through here, out of line, so the parsing
/// methods stay small enough to inline and their fast path carries no exception-building code (as
/// Kestrel's <c>RejectRequestLine</c>).
/// </summary>
internal static class HttpReject
{
    /// <summary>The most characters of escaped request bytes a message echoes.</summary>
    public const int MaxEchoLength = 64;

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    [StackTraceHidden]
    public static void Throw(HttpRejectReason reason) =>
        throw new HttpRejectException(reason, Describe(reason));

    /// <summary>Throws with <paramref name="detail"/> echoed, escaped and capped. Never pass a field value (it may hold credentials).</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    [StackTraceHidden]
    public static void Throw(HttpRejectReason reason, ReadOnlySpan<byte> detail) =>
        throw new HttpRejectException(reason, Describe(reason) + ": \"" + Escape(detail) + "\"");

    /// <summary>
    /// Printable ASCII as is; backslash, quote and every other byte as <c>\xHH</c>; at most
    /// <see cref="MaxEchoLength"/> characters, then "...". So a message cannot carry a newline, a
    /// terminal escape or an unbounded amount of what the peer sent into a log or a response.
    /// </summary>
    public static string Escape(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(MaxEchoLength + 3);
        foreach (byte b in bytes)
        {
            bool plain = b is >= 0x20 and < 0x7F and not (byte)'\\' and not (byte)'"';
            if (text.Length + (plain ? 1 : 4) > MaxEchoLength)
            {
                text.Append("...");
                break;
            }
            if (plain)
            {
                text.Append((char)b);
            }
            else
            {
                text.Append("\\x").Append(b.ToString("X2"));
            }
        }
        return text.ToString();
    }

    /// <summary>What a reason means, in a few words: the same for the same reason whatever bytes caused it.</summary>
    public static string Describe(HttpRejectReason reason) => reason switch
    {
        HttpRejectReason.InvalidRequestLine => "Invalid request line",
        HttpRejectReason.InvalidMethod => "Invalid method",
        HttpRejectReason.InvalidRequestTarget => "Invalid request target",
        HttpRejectReason.InvalidVersion => "Invalid HTTP version",
        HttpRejectReason.UnsupportedVersion => "Unsupported HTTP version",
        HttpRejectReason.RequestLineTooLong => "Request line too long",
        HttpRejectReason.InvalidLineTerminator => "Line not terminated by CRLF",
        HttpRejectReason.InvalidHeaderLine => "Field line without a colon",
        HttpRejectReason.InvalidFieldName => "Invalid field name",
        HttpRejectReason.WhitespaceBeforeColon => "Whitespace between field name and colon",
        HttpRejectReason.ObsFold => "Field line starts with whitespace (obsolete line folding)",
        HttpRejectReason.InvalidFieldValue => "Control character in the value of field",
        HttpRejectReason.HeadersTooLarge => "Header section too large",
        HttpRejectReason.TooManyHeaders => "Too many header fields",
        HttpRejectReason.MissingHost => "HTTP/1.1 request without Host",
        HttpRejectReason.DuplicateHost => "More than one Host field",
        HttpRejectReason.InvalidHost => "Invalid Host value",
        HttpRejectReason.InvalidContentLength => "Invalid Content-Length",
        HttpRejectReason.ConflictingContentLength => "Conflicting Content-Length values",
        HttpRejectReason.TransferEncodingWithContentLength => "Both Transfer-Encoding and Content-Length",
        HttpRejectReason.TransferEncodingInHttp10 => "Transfer-Encoding in an HTTP/1.0 request",
        HttpRejectReason.ChunkedNotFinal => "chunked must be the final transfer coding, applied once",
        HttpRejectReason.UnsupportedTransferCoding => "Unsupported transfer coding",
        HttpRejectReason.InvalidChunkSize => "Invalid chunk size",
        HttpRejectReason.InvalidChunkExtension => "Invalid chunk extension",
        HttpRejectReason.ChunkExtensionTooLong => "Chunk extension too long",
        HttpRejectReason.MissingChunkTerminator => "Chunk data not followed by CRLF",
        HttpRejectReason.BodyTooLarge => "Request body too large",
        HttpRejectReason.IncompleteBody => "The connection ended before the request body did",
        HttpRejectReason.BodyTimeout => "The request body arrived too slowly",
        HttpRejectReason.InvalidForm => "Invalid form data",
        HttpRejectReason.FormTooLarge => "Form data too large",
        _ => "Bad request",
    };
}
