using System.Runtime.CompilerServices;
using Eddy.Http.Parsing.Internal;

namespace Eddy.Http.Parsing;

/*
# HTTP/1.1 request parsing: what is accepted, what is rejected, and with which status

The parser (HttpParser), the body decoder (HttpBodyDecoder, over ChunkedDecoder and ContentLengthDecoder) and the limits (HttpParserLimits)
follow RFC 9110 and RFC 9112 strictly wherever leniency would let two parsers in a chain (a proxy and
this server) disagree about where a request or a field ends: that disagreement is request smuggling.
Every rejection is an HttpRejectException carrying an HttpRejectReason, whose status code is fixed by
HttpRejectException.GetStatusCode. Tests are in tests/Eddy.UnitTests/Http/Parsing/ (P = HttpParserTests,
C = ChunkedDecoderTests).

| Input | Outcome (reason) | Status | RFC | Test |
|---|---|---|---|---|
| Empty lines (CRLF) before the request-line | skipped, any number, and consumed | - | 9112 §2.2 | P.EmptyLinesBeforeTheRequestLineAreSkippedAndConsumed |
| Bare LF ending any line (request-line, field line, empty line, chunk line, trailer) | InvalidLineTerminator: we do not take the §2.2 option to accept it | 400 | 9112 §2.2 | P.ARequestLineEndingInABareLfIsRejected, P.AFieldLineEndingInABareLfIsRejected, P.AHeadEndingInABareLfIsRejectedAtOnce, P.ABareLfBeforeTheRequestLineIsRejected, C.AChunkSizeLineNotEndingInCrlfIsRejected, C.ATrailerLineEndingInABareLfIsRejected |
| Bare CR before the request-line | InvalidLineTerminator | 400 | 9112 §2.2 | P.ABareCrBeforeTheRequestLineIsRejected |
| Bare CR, NUL or other control in the request-line | InvalidMethod / InvalidRequestTarget / InvalidVersion, by the part it is in | 400 | 9112 §2.2 | P.ABareCrInTheRequestTargetIsRejected |
| Method not a token | InvalidMethod; rejected as soon as the bad byte arrives | 400 | 9110 §9.1 | P.AMethodThatIsNotATokenIsRejected, P.ANonHttpPeerIsRejectedByItsFirstBytes |
| Lower-case or unknown method token (get, PURGE) | accepted as HttpVerb.Extension (methods are case-sensitive) | - | 9110 §9.1 | P.MethodsAreCaseSensitiveTokensAndUnknownOnesAreExtensions |
| Leading SP, two SPs, trailing SP, SP inside the target, no version | InvalidRequestLine: exactly one SP between the three parts | 400 | 9112 §3 | P.ARequestLineStartingWithASpaceIsRejected, P.TwoSpacesBeforeTheTargetAreRejected, P.TwoSpacesBeforeTheVersionAreRejected, P.ATrailingSpaceAfterTheVersionIsRejected, P.ATargetWithASpaceIsRejected, P.ARequestLineWithoutAVersionIsRejected |
| HTAB (or other whitespace) as a request-line separator | InvalidMethod (we do not split on any whitespace, which §3 allows) | 400 | 9112 §3 | P.TabsAsRequestLineSeparatorsAreRejected |
| Control, DEL, non-ASCII or '#' in the request-target | InvalidRequestTarget (raw UTF-8 must be percent-encoded; no fragment is ever sent) | 400 | 9112 §3.2, 3986 | P.ATargetWithAControlCharacterNonAsciiByteOrFragmentIsRejected |
| Target not origin-form ("/..."), absolute-form ("scheme://host..."), authority-form (CONNECT) or "*" (OPTIONS) | InvalidRequestTarget | 400 | 9112 §3.2 | P.ATargetInAFormTheMethodDoesNotAllowIsRejected |
| Absolute-form with userinfo, empty host, or without "//" | InvalidRequestTarget | 400 | 9110 §4.2.1, §4.2.4 | P.ATargetInAFormTheMethodDoesNotAllowIsRejected |
| CONNECT without "host:port", or any other method with authority-form; "*" but for OPTIONS | InvalidRequestTarget | 400 | 9112 §3.2.3, §3.2.4 | P.ATargetInAFormTheMethodDoesNotAllowIsRejected |
| Version not "HTTP/" DIGIT "." DIGIT (http/1.1, HTTP/1.10, HTTP/11) | InvalidVersion | 400 | 9112 §2.3 | P.AMalformedVersionIsRejectedWith400 |
| Well-formed version other than 1.0 and 1.1 (HTTP/2.0, 1.2, 0.9, 3.0; the h2 preface) | UnsupportedVersion | 505 | 9110 §15.6.6 | P.AWellFormedVersionOtherThan10Or11IsRejectedWith505, P.TheHttp2ConnectionPrefaceIsRejectedWith505 |
| Request-line (with CRLF) over MaxRequestLineLength (8 KiB) | RequestLineTooLong, as soon as it cannot fit | 414 | 9112 §3 | P.ARequestLineOverTheLimitIsRejectedWith414, P.ARequestLineOverTheLimitIsRejectedBeforeItEnds, P.ARequestLineExactlyAtTheLimitIsAccepted |
| Whitespace between field name and colon | WhitespaceBeforeColon | 400 | 9112 §5.1 | P.WhitespaceBetweenAFieldNameAndItsColonIsRejected, P.ATabBetweenAFieldNameAndItsColonIsRejected |
| Field line starting with SP/HTAB (obs-fold), also right after the request-line | ObsFold: rejected, not unfolded | 400 | 9112 §5.2, §2.2 | P.ObsFoldIsRejected, P.ObsFoldWithATabIsRejected, P.WhitespaceBeforeTheFirstFieldLineIsRejected, C.TrailerFieldsFollowTheHeaderFieldRules |
| Field line without a colon | InvalidHeaderLine | 400 | 9112 §5 | P.AFieldLineWithoutAColonIsRejected |
| Empty field name, or a name that is not a token | InvalidFieldName | 400 | 9110 §5.1 | P.AnEmptyFieldNameIsRejected, P.AFieldNameThatIsNotATokenIsRejected |
| NUL, CR, other controls (HTAB excepted) or DEL in a field value | InvalidFieldValue: rejected, not replaced with SP; the message names the field, never echoes the value | 400 | 9110 §5.5 | P.ANulCrControlOrDelInAFieldValueIsRejected, P.TheRejectionMessageOfAFieldValueNamesTheFieldButNotTheValue |
| obs-text (0x80-0xFF), inner SP/HTAB in a value; leading/trailing OWS | accepted; OWS trimmed | - | 9110 §5.5 | P.HeaderValuesKeepInnerWhitespaceAndObsTextAndLoseSurroundingWhitespace |
| Field lines over MaxHeaderBytes (32 KiB, CRLFs and the final empty line included) | HeadersTooLarge, as soon as it cannot fit | 431 | 6585 §5 | P.HeadersOverTheByteLimitAreRejectedWith431, P.HeadersOverTheByteLimitAreRejectedBeforeTheHeadEnds, P.HeadersExactlyAtTheByteLimitAreAccepted |
| More than MaxHeaderCount (100) field lines | TooManyHeaders | 431 | 6585 §5 | P.MoreThanOneHundredHeadersAreRejectedWith431, P.OneHundredHeadersAreAccepted |
| HTTP/1.1 without Host | MissingHost (HTTP/1.0 without Host is accepted) | 400 | 9112 §3.2 | P.AnHttp11RequestWithoutHostIsRejected, P.AnHttp10RequestWithoutHostIsAcceptedAndNotKeptAlive |
| More than one Host line, any version | DuplicateHost | 400 | 9112 §3.2 | P.TwoHostFieldsAreRejected, P.TwoHostFieldsAreRejectedInHttp10Too |
| Host not uri-host [":" port] (space, userinfo, path, bad port, open bracket); empty Host is accepted | InvalidHost | 400 | 9112 §3.2 | P.AnInvalidHostIsRejected, P.AnEmptyHostIsAccepted |
| Transfer-Encoding and Content-Length together, in either order | TransferEncodingWithContentLength | 400 | 9112 §6.3 (3) | P.TransferEncodingWithContentLengthIsRejectedAsSmuggling, P.ContentLengthAfterTransferEncodingIsRejectedAsSmuggling |
| Content-Length with sign, space, hex, other non-digits, empty or empty list element, or over long.MaxValue | InvalidContentLength | 400 | 9110 §8.6 | P.AContentLengthThatIsNotJustDigitsOrOverflowsIsRejected |
| Content-Length values that differ (on two lines, or "5, 6") | ConflictingContentLength | 400 | 9110 §8.6 | P.DuplicateContentLengthsThatDifferAreRejected, P.AContentLengthListWhoseValuesDifferIsRejected |
| Identical Content-Length values (two lines, "5, 5", "005") | accepted as one value | - | 9110 §8.6 | P.IdenticalContentLengthsAreOneContentLength |
| Content-Length over the body limit (HttpBodyDecoder.MaxBodySize; the server's default 30 MB) | BodyTooLarge, at the body's first Decode, before any of it is consumed | 413 | 9110 §15.5.14 | HttpBodyDecoderTests.AContentLengthOverTheLimitIsRejectedAtTheFirstDecodeBeforeAnyByteIsTaken |
| Transfer-Encoding whose final coding is not chunked ("gzip", "chunked, gzip", "chunked;q=1", empty), or chunked twice ("chunked, chunked", two lines) | ChunkedNotFinal | 400 | 9112 §6.3 (4), §7 | P.ATransferEncodingWhoseFinalCodingIsNotASingleChunkedIsRejected, P.ChunkedOnTwoTransferEncodingLinesIsRejected |
| Another coding before a final chunked ("gzip, chunked", also over two lines) | UnsupportedTransferCoding | 501 | 9112 §6.1 | P.ATransferCodingOtherThanChunkedIsRejectedWith501, P.CodingsOnSeveralTransferEncodingLinesAddUp |
| Transfer-Encoding in an HTTP/1.0 request | TransferEncodingInHttp10 (framing is faulty) | 400 | 9112 §6.1 | P.TransferEncodingInAnHttp10RequestIsRejected |
| Empty elements in Transfer-Encoding/Connection lists; names and tokens in any case | ignored; case-insensitive | - | 9110 §5.6.1, §5.1 | P.ChunkedAsTheOnlyCodingIsAChunkedBody, P.FramingHeaderNamesAreCaseInsensitive |
| Connection: close / keep-alive (lists, several lines); HTTP/1.0 vs 1.1 defaults | close wins; 1.1 persistent by default; 1.0 only with keep-alive | - | 9112 §9.3 | P.KeepAliveFollowsTheVersionDefaultAndTheConnectionTokens, P.ConnectionKeepAliveOnTwoLinesAndCloseOnAnotherIsClose |
| Expect: 100-continue (any case); in HTTP/1.0; other expectations | recorded in 1.1; ignored in 1.0; others ignored (no 417) | - | 9110 §10.1.1 | P.ExpectContinueCountsInHttp11AndIsIgnoredInHttp10 |
| Upgrade field, Connection: upgrade | recorded only | - | 9110 §7.8 | P.UpgradeAndConnectionUpgradeAreRecorded |
| Chunk-size empty, not hex, with leading whitespace, sign or "0x", or followed by junk or by whitespace not leading to ';' | InvalidChunkSize | 400 | 9112 §7.1 | C.AChunkSizeThatIsEmptyNotHexOrFollowedByJunkIsRejected |
| Chunk-size over long.MaxValue or longer than 16 hex digits (leading zeros included) | InvalidChunkSize | 400 | 9112 §7.1 | C.AChunkSizeThatOverflowsALongOrHasMoreThan16DigitsIsRejected, C.TheLargestChunkSizeALongHoldsIsAccepted |
| Chunk extensions (";name[=value]", BWS, quoted strings) | checked against the grammar, then skipped | - | 9112 §7.1.1 | C.AChunkedBodyDecodesToItsDataAndTrailers, C.ChunkExtensionsThatFollowTheGrammarAreSkipped |
| A bare ";", a name that is not a token, a value that is not a token or a whole quoted-string, whitespace not leading to ";" or "=" | InvalidChunkExtension | 400 | 9112 §7.1.1 | C.AChunkExtensionThatBreaksTheGrammarIsRejected |
| Control (but HTAB) or DEL in a chunk extension | InvalidChunkExtension | 400 | 9112 §7.1.1 | C.AControlCharacterInAChunkExtensionIsRejected |
| Chunk-size line after its digits longer than MaxChunkExtensionLength (4 KiB) | ChunkExtensionTooLong, as soon as it cannot fit | 400 | 9112 §7.1.1 | C.ExtensionsUpToTheLimitAreSkipped, C.ALongExtensionIsRejectedBeforeTheLineEnds |
| Chunk data not followed by exactly CRLF | MissingChunkTerminator | 400 | 9112 §7.1 | C.ChunkDataNotFollowedByCrlfIsRejected |
| Trailer fields | parsed under the field-line rules and limits above; delivered apart from headers (IHttpTrailerHandler) or dropped | as above | 9112 §7.1.2, 9110 §6.5 | C.TrailerFieldsFollowTheHeaderFieldRules, C.TooManyTrailersAreRejectedWith431, C.TrailersOverTheByteLimitAreRejectedWith431EvenBeforeTheyEnd |
| Chunked body over the body limit | BodyTooLarge, at the chunk-size that crosses it | 413 | 9110 §15.5.14 | C.ABodyOverTheLimitIsRejectedWith413AtTheChunkSizeThatCrossesIt, HttpBodyDecoderTests.AChunkedBodyOverTheLimitIsRejectedAtTheChunkThatTakesItOver |
| The same bytes split into reads any other way | the same outcome and reason: the first byte that rules the request out decides, and a line is judged against its limit with the CRLF it needs (a bare LF counts as two bytes), as while it arrives | as above | - | FuzzRegression.SplitVerdictTests, the fuzz corpus (fuzz/README.md) |
| Any input at all | parsed, "need more data", or HttpRejectException: never another exception, never a loop without progress | - | - | P.RandomBytesAreOnlyEverRejectedWithHttpRejectException, P.RandomHttpLikeInputIsOnlyEverRejectedWithHttpRejectException, P.MutatedValidRequestsAreOnlyEverRejectedWithHttpRejectException |

Rejection messages echo at most 64 characters of request bytes, escaped (printable ASCII as is, every
other byte, '"' and '\' as \xHH), and never a field value (HttpRejectExceptionTests.TheMessageEchoesRequestBytesEscapedAndCapped).
*/

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
/// <b>How.</b> One vectorized pass over a new head marks where its lines end and finds its end, the first
/// CRLFCRLF (<see cref="LineFeedIndex"/>); each line is then validated with vectorized scans of its byte
/// classes and delivered. The rare incomplete head is
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
    private int _searched;              // bytes already searched for LF and CRLFCRLF: the last input's length
    private RequestFraming _scannedFraming; // what the checked field lines said about framing

    /// <summary>A parser under <see cref="HttpParserLimits.Default"/>.</summary>
    public HttpParser()
        : this(HttpParserLimits.Default)
    {
    }

    /// <summary>A parser under <paramref name="limits"/>.</summary>
    public HttpParser(HttpParserLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _limits = limits;
    }

    /// <summary>The limits this parser enforces.</summary>
    public HttpParserLimits Limits => _limits;

    /// <summary>Forgets the progress through an incomplete head: for a new connection, or after a rejection.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Reset()
    {
        _scanned = 0;
        _scannedLines = 0;
        _scannedHeaderBytes = 0;
        _scannedHeaderCount = 0;
        _searched = 0;
        _scannedFraming = default;
    }

    /// <summary>
    /// Parses a request head from the start of <paramref name="input"/> if it is all there; see the
    /// class summary for the contract.
    /// </summary>
    /// <returns>True when a head was parsed; false when more bytes are needed.</returns>
    /// <exception cref="HttpRejectException">The head is invalid or exceeds the limits.</exception>
    [SkipLocalsInit] // the line index's storage: only the blocks it has written are read
    public bool TryParseHead<THandler>(ReadOnlySpan<byte> input, ref THandler handler, out int consumed, out HttpRequestHead head)
        where THandler : struct, IHttpRequestHandler, allows ref struct
    {
        if ((uint)_searched > (uint)input.Length)
        {
            // The caller did not present the same bytes again; start over rather than trust the scan.
            Reset();
        }

        int skipped = 0;
        if (_scanned == 0 && !input.IsEmpty && (input[0] == (byte)'\r' || input[0] == (byte)'\n'))
        {
            skipped = SkipEmptyLines(input);
            input = input[skipped..];
            _searched = 0;
        }

        // The head ends at the first CRLFCRLF: every LF before it ends a line (a bare LF is rejected
        // below) and the request-line is not empty. A new head is indexed (its LFs and its end) in one
        // vectorized pass; a long one is searched on past the index. Resume the search where the last
        // one stopped: a byte at a time then costs linear time, not quadratic.
        var lines = new LineFeedIndex(input, stackalloc ulong[LineFeedIndex.Capacity]);
        int from = Math.Max(_searched - 3, 0);
        int length = -1;
        if (from == 0)
        {
            length = lines.FindHeadEnd();
            from = Math.Max(lines.IndexedLength - 3, 0);
        }
        if (length < 0)
        {
            int end = from < input.Length ? input[from..].IndexOf("\r\n\r\n"u8) : -1;
            if (end < 0)
            {
                ScanIncompleteHead(input);
                consumed = skipped;
                head = default;
                return false;
            }
            length = from + end + 4;
        }

        head = ParseHead(input[..length], lines, ref handler);
        Reset();
        consumed = skipped + length;
        return true;
    }

    /// <summary>Parses a complete head (it ends with CRLFCRLF and has no earlier empty line) and calls the handler.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private HttpRequestHead ParseHead<THandler>(ReadOnlySpan<byte> head, scoped LineFeedIndex lines, ref THandler handler)
        where THandler : struct, IHttpRequestHandler, allows ref struct
    {
        HttpParserLimits limits = _limits;

        int lf = lines.Next(0);
        if (lf + 1 > limits.MaxRequestLineLength || lf == 0 || head[lf - 1] != (byte)'\r')
        {
            RejectRequestLine(head[..lf]);
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
            lf = lines.Next(position) - position;
            headerBytes = FieldLine.AddToSection(rest, lf, headerBytes, limits.MaxHeaderBytes);
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

        HttpRequestHead result = framing.Complete(headerCount);
        handler.OnHeadersComplete(in result);
        return result;
    }
}
