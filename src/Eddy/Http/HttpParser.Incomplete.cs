using System.Runtime.CompilerServices;
using Eddy.Http.Internal;

namespace Eddy.Http;

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
    /// Checks the complete lines of an incomplete head that have not been checked yet, and what can be
    /// told of the partial line after them: a line that has outgrown its limit, or a request-line
    /// whose method is already invalid. Remembers where it stopped.
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
            if (lf == 0 || rest[lf - 1] != (byte)'\r')
            {
                RejectLineTerminator(rest[..lf]);
            }
            ReadOnlySpan<byte> line = rest[..(lf - 1)];
            if (lines == 0)
            {
                if (lf + 1 > limits.MaxRequestLineLength)
                {
                    HttpReject.Throw(HttpRejectReason.RequestLineTooLong);
                }
                _ = RequestLineParser.Parse(line);
            }
            else
            {
                headerBytes += lf + 1;
                if (headerBytes > limits.MaxHeaderBytes)
                {
                    HttpReject.Throw(HttpRejectReason.HeadersTooLarge);
                }
                // Not the empty line: TryParseHead searched for the end of the head first.
                if (++headerCount > limits.MaxHeaderCount)
                {
                    HttpReject.Throw(HttpRejectReason.TooManyHeaders);
                }
                FieldLine.Parse(line, out _, out _);
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
        // The line will be at least its CRLF longer than what has arrived, less a CR that has.
        bool endsInCr = !partial.IsEmpty && partial[^1] == (byte)'\r';
        int shortest = partial.Length + (endsInCr ? 1 : 2);
        if (lines > 0)
        {
            if (headerBytes + shortest > _limits.MaxHeaderBytes)
            {
                HttpReject.Throw(HttpRejectReason.HeadersTooLarge);
            }
            return;
        }
        if (shortest > _limits.MaxRequestLineLength)
        {
            HttpReject.Throw(HttpRejectReason.RequestLineTooLong);
        }
        // Reject a method that cannot become valid now, so a TLS handshake or other non-HTTP peer is
        // answered at once rather than after 8 KiB.
        if (endsInCr)
        {
            partial = partial[..^1];
        }
        int space = partial.IndexOf((byte)' ');
        if (space != 0 && !partial.IsEmpty)
        {
            RequestLineParser.ValidateExtensionMethod(space < 0 ? partial : partial[..space], partial);
        }
        else if (space == 0)
        {
            HttpReject.Throw(HttpRejectReason.InvalidRequestLine, partial);
        }
    }

    /// <summary>A bare LF (or a CR not followed by LF): RFC 9112 §2.2 allows accepting a bare LF; we reject it, so no two parsers in a chain can disagree about where a line ends.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RejectLineTerminator(ReadOnlySpan<byte> line) =>
        HttpReject.Throw(HttpRejectReason.InvalidLineTerminator, line);
}
