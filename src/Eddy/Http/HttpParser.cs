using System.Runtime.CompilerServices;
using Eddy.Http.Internal;

namespace Eddy.Http;

// STRICTNESS_TABLE_PLACEHOLDER

/// <summary>
/// An incremental, zero-copy HTTP/1.1 request-head parser (RFC 9112 §2-§5, with the framing rules of
/// §6 and RFC 9110). One per connection: it keeps a little progress between calls.
/// <para>
/// <b>Contract.</b> Call <see cref="TryParseHead"/> with the bytes received so far. It returns true
/// when the whole head (request-line, field lines, empty line) is in <c>input</c>: the handler has then
/// been called for every part, in order, with spans into <c>input</c>, and <c>consumed</c> is the length
/// of the head (plus any empty lines skipped before it). The body, if any, starts at
/// <c>input[consumed..]</c>. It returns false when the head is incomplete: the handler was not called,
/// and <c>consumed</c> counts only the empty lines skipped before the request-line (RFC 9112 §2.2), never
/// a part of the head. Keep <c>input[consumed..]</c>, append what arrives next, and call again with
/// all of it. A head that can no longer become valid, or that has outgrown the
/// <see cref="HttpParserLimits"/>, throws <see cref="HttpRejectException"/> as soon as that is known,
/// before it is complete; the connection is then done (call <see cref="Reset"/> to reuse the parser).
/// </para>
/// <para>
/// <b>How.</b> A complete head is found with one vectorized search for CRLFCRLF; each line is then
/// validated with vectorized scans of its byte classes and delivered. The rare incomplete head is
/// scanned out of line: each complete line is checked at once (so garbage is rejected early, not at a
/// limit) and where the scan stopped is remembered, so a head that arrives a byte at a time costs
/// linear, not quadratic, time.
/// </para>
/// </summary>
public sealed partial class HttpParser
{
    private readonly HttpParserLimits _limits;

    // The progress through an incomplete head, relative to the start of the unconsumed input, which the
    // caller presents again on the next call. All zero between heads.
    private int _scanned;               // bytes of complete lines already checked
    private int _scannedLines;          // how many: the request-line, then field lines
    private int _scannedHeaderBytes;    // bytes of the field lines among them
    private int _scannedHeaderCount;

    public HttpParser()
        : this(HttpParserLimits.Default)
    {
    }

    public HttpParser(HttpParserLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _limits = limits;
    }

    public HttpParserLimits Limits => _limits;

    /// <summary>Forgets the progress through an incomplete head: for a new connection, or after a rejection.</summary>
    public void Reset()
    {
        _scanned = 0;
        _scannedLines = 0;
        _scannedHeaderBytes = 0;
        _scannedHeaderCount = 0;
    }

    /// <summary>
    /// Parses a request head from the start of <paramref name="input"/> if it is all there; see the
    /// class summary for the contract.
    /// </summary>
    /// <returns>True when a head was parsed; false when more bytes are needed.</returns>
    /// <exception cref="HttpRejectException">The head is invalid or exceeds the limits.</exception>
    public bool TryParseHead<THandler>(ReadOnlySpan<byte> input, ref THandler handler, out int consumed, out HttpRequestHead head)
        where THandler : struct, IHttpRequestHandler
    {
        if ((uint)_scanned > (uint)input.Length)
        {
            // The caller did not present the same bytes again; start over rather than trust the scan.
            Reset();
        }

        int skipped = 0;
        if (_scanned == 0 && !input.IsEmpty && (input[0] == (byte)'\r' || input[0] == (byte)'\n'))
        {
            skipped = SkipEmptyLines(input);
            input = input[skipped..];
        }

        // The head ends at the first CRLFCRLF: every LF before it ends a line (a bare LF is rejected
        // below) and the request-line is not empty. Resume the search at the CRLF of the last line checked.
        int from = _scanned >= 2 ? _scanned - 2 : 0;
        int end = input[from..].IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            ScanIncompleteHead(input);
            consumed = skipped;
            head = default;
            return false;
        }

        int length = from + end + 4;
        head = ParseHead(input[..length], ref handler);
        Reset();
        consumed = skipped + length;
        return true;
    }

    /// <summary>Parses a complete head (it ends with CRLFCRLF and has no earlier empty line) and calls the handler.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private HttpRequestHead ParseHead<THandler>(ReadOnlySpan<byte> head, ref THandler handler)
        where THandler : struct, IHttpRequestHandler
    {
        HttpParserLimits limits = _limits;

        int lf = head.IndexOf((byte)'\n');
        if (lf + 1 > limits.MaxRequestLineLength)
        {
            HttpReject.Throw(HttpRejectReason.RequestLineTooLong);
        }
        if (lf == 0 || head[lf - 1] != (byte)'\r')
        {
            RejectLineTerminator(head[..lf]);
        }
        HttpRequestLine requestLine = RequestLineParser.Parse(head[..(lf - 1)]);
        handler.OnRequestLine(requestLine);

        var framing = new RequestFraming(requestLine.Verb, requestLine.Version, requestLine.TargetForm);
        int position = lf + 1;
        int headerBytes = 0;
        int headerCount = 0;
        while (true)
        {
            ReadOnlySpan<byte> rest = head[position..];
            // Found: the head ends with LF.
            lf = rest.IndexOf((byte)'\n');
            if (lf == 0 || rest[lf - 1] != (byte)'\r')
            {
                RejectLineTerminator(rest[..lf]);
            }
            headerBytes += lf + 1;
            if (headerBytes > limits.MaxHeaderBytes)
            {
                HttpReject.Throw(HttpRejectReason.HeadersTooLarge);
            }
            if (lf == 1)
            {
                break;
            }
            if (++headerCount > limits.MaxHeaderCount)
            {
                HttpReject.Throw(HttpRejectReason.TooManyHeaders);
            }
            FieldLine.Parse(rest[..(lf - 1)], out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value);
            framing.Observe(name, value);
            handler.OnHeader(name, value);
            position += lf + 1;
        }

        HttpRequestHead result = framing.Complete(headerCount, limits);
        handler.OnHeadersComplete(in result);
        return result;
    }
}
