using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Eddy.Http.Parsing.Internal;

namespace Eddy.Http.Parsing;

// The rare paths: empty lines before a head, and a head that has not all arrived.
public sealed partial class HttpParser
{
    /// <summary>
    /// RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line (some
    /// clients send CRLF after a POST body). We ignore any number; each is consumed, so they cost no
    /// buffer. Returns how many bytes to skip; a lone CR at the end is left for the next call.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int SkipEmptyLines(ReadOnlySpan<byte> input)
    {
        int i = 0;
        // (uint) lets the JIT drop the bounds checks on input[i] and input[i + 1].
        while ((uint)i < (uint)input.Length)
        {
            byte b = input[i];
            if (b == (byte)'\n')
            {
                RejectLineTerminator(input[..(i + 1)]);
            }
            if (b != (byte)'\r')
            {
                break;
            }
            if ((uint)(i + 1) >= (uint)input.Length)
            {
                break;
            }
            if (input[i + 1] != (byte)'\n')
            {
                RejectLineTerminator(input[..(i + 2)]);
            }
            i += 2;
        }
        return i;
    }

    /// <summary>
    /// Checks the complete lines of an incomplete head that have not been checked yet, as a complete
    /// head's are (framing fields included), and what can be told of the partial line after them: a
    /// line that has outgrown its limit, or a request-line whose method is already invalid. Remembers
    /// where it stopped.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ScanIncompleteHead(ReadOnlySpan<byte> input)
    {
        HttpParserLimits limits = _limits;
        int position = _scanned;
        int lines = _scannedLines;
        int headerBytes = _scannedHeaderBytes;
        int headerCount = _scannedHeaderCount;
        while (true)
        {
            ReadOnlySpan<byte> rest = input[position..];
            // The bytes up to _searched hold no LF after the last complete line.
            int skip = Math.Max(_searched - position, 0);
            int lf = rest[skip..].IndexOf((byte)'\n');
            if (lf >= 0)
            {
                lf += skip;
            }
            else
            {
                CheckPartialLine(rest, lines, headerBytes);
                break;
            }
            if (lines == 0)
            {
                if (lf + 1 > limits.MaxRequestLineLength || lf == 0 || rest[lf - 1] != (byte)'\r')
                {
                    RejectRequestLine(rest[..lf]);
                }
                HttpRequestLine requestLine = RequestLineParser.Parse(rest[..(lf - 1)]);
                _scannedFraming = new RequestFraming(requestLine.Verb, requestLine.Version, requestLine.TargetForm);
            }
            else
            {
                headerBytes = FieldLine.AddToSection(rest, lf, headerBytes, limits.MaxHeaderBytes);
                // Not the empty line: TryParseHead searched for the end of the head first.
                if (++headerCount > limits.MaxHeaderCount)
                {
                    HttpReject.Throw(HttpRejectReason.TooManyHeaders);
                }
                FieldLine.Parse(rest[..(lf - 1)], out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value);
                // The field's own framing checks too (a bad Host, Content-Length), in the order a complete
                // head gets them: otherwise a later line's error could win over this one's, depending on
                // how the bytes were split.
                _scannedFraming.Observe(name, value);
            }
            lines++;
            position += lf + 1;
        }
        _scanned = position;
        _scannedLines = lines;
        _scannedHeaderBytes = headerBytes;
        _scannedHeaderCount = headerCount;
        _searched = input.Length;
    }

    private void CheckPartialLine(ReadOnlySpan<byte> partial, int lines, int headerBytes)
    {
        if (lines > 0)
        {
            if (headerBytes + FieldLine.ShortestLength(partial) > _limits.MaxHeaderBytes)
            {
                HttpReject.Throw(HttpRejectReason.HeadersTooLarge);
            }
            return;
        }
        // Reject a method that cannot become valid now, so a TLS handshake or other non-HTTP peer is
        // answered at once rather than after 8 KiB.
        RejectRequestLineStart(partial);
    }

    /// <summary>A complete request-line that is too long or not ended by CRLF: the same verdict as it would have had while it arrived.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RejectRequestLine(ReadOnlySpan<byte> beforeLf)
    {
        RejectRequestLineStart(beforeLf);
        RejectLineTerminator(beforeLf);
    }

    /// <summary>
    /// Rejects what the start of a request-line (the bytes before its LF, or all that has arrived) rules
    /// out: a method that is not a token, or a length the line cannot fit in. The verdict is the one the
    /// bytes would get arriving one at a time - the first byte that rules the line out decides, and at
    /// the same byte the length wins - so it does not depend on how they were split. (Found by fuzzing:
    /// a line judged whole got 414 where the same bytes in pieces got 400.)
    /// </summary>
    private void RejectRequestLineStart(ReadOnlySpan<byte> start)
    {
        int max = _limits.MaxRequestLineLength;
        // The shortest start that cannot fit (FieldLine.ShortestLength > max): max - 1 bytes, or max if
        // the last of those is a CR, which needs only its LF.
        int tooLongAt = max < 2 ? 0 : start.Length >= max - 1 && start[max - 2] == (byte)'\r' ? max : max - 1;
        RejectMethodStart(start[..Math.Min(start.Length, Math.Max(tooLongAt - 1, 0))]);
        if (start.Length >= tooLongAt)
        {
            HttpReject.Throw(HttpRejectReason.RequestLineTooLong);
        }
    }

    /// <summary>A method (the bytes before the first SP) that no more bytes can make a token.</summary>
    private static void RejectMethodStart(ReadOnlySpan<byte> start)
    {
        // A CR at the end may yet be the line's CRLF.
        if (!start.IsEmpty && start[^1] == (byte)'\r')
        {
            start = start[..^1];
        }
        int space = start.IndexOf((byte)' ');
        if (space == 0)
        {
            HttpReject.Throw(HttpRejectReason.InvalidRequestLine, start);
        }
        if (!start.IsEmpty)
        {
            RequestLineParser.ValidateExtensionMethod(space < 0 ? start : start[..space], start);
        }
    }

    /// <summary>A bare LF (or a CR not followed by LF): RFC 9112 §2.2 allows accepting a bare LF; we reject it, so no two parsers in a chain can disagree about where a line ends.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RejectLineTerminator(ReadOnlySpan<byte> line) =>
        HttpReject.Throw(HttpRejectReason.InvalidLineTerminator, line);
}
