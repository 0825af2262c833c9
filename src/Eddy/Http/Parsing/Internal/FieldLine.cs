using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Eddy.Http.Parsing.Internal;

/// <summary>
/// One field line, <c>field-name ":" OWS field-value OWS</c> (RFC 9112 §5), for headers and trailers
/// alike. The caller has already cut the line at its CRLF.
/// </summary>
internal static class FieldLine
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Parse(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        // One vectorized scan finds the end of the name and validates it: in a good line the first
        // non-tchar is the colon. Everything else goes to the out-of-line classifier.
        int colon = line.IndexOfAnyExcept(HttpCharacters.Token);
        // (uint) turns "not found" (-1) into a huge index, so one compare covers it and lets the JIT
        // drop the bounds check on line[colon].
        if ((uint)colon >= (uint)line.Length || colon == 0 || line[colon] != (byte)':')
        {
            RejectLine(line, colon);
        }
        name = line[..colon];
        value = HttpCharacters.TrimWhitespace(line[(colon + 1)..]);
        // RFC 9110 §5.5: CR, LF and NUL in a value are "invalid and dangerous"; we reject every control
        // but HTAB, and DEL, rather than replace them with SP.
        if (value.IndexOfAny(HttpCharacters.FieldValueInvalid) >= 0)
        {
            HttpReject.Throw(HttpRejectReason.InvalidFieldValue, name);
        }
    }

    /// <summary>
    /// Counts the line that ends at <paramref name="rest"/>[<paramref name="lf"/>] into a section (a head's
    /// field lines, or a trailer section) of <paramref name="sectionBytes"/> so far, and returns the new
    /// total. Rejects a section that outgrows <paramref name="maxBytes"/>, then a line not ended by CRLF,
    /// in that order and counting a bare LF as the CRLF it should be: that is how the line is judged
    /// while it arrives (<see cref="ShortestLength"/>), so the verdict cannot depend on where the bytes
    /// were split.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AddToSection(ReadOnlySpan<byte> rest, int lf, int sectionBytes, int maxBytes)
    {
        bool endsInCrLf = lf > 0 && rest[lf - 1] == (byte)'\r';
        int total = sectionBytes + lf + (endsInCrLf ? 1 : 2);
        if (total > maxBytes)
        {
            HttpReject.Throw(HttpRejectReason.HeadersTooLarge);
        }
        if (!endsInCrLf)
        {
            HttpReject.Throw(HttpRejectReason.InvalidLineTerminator, rest[..lf]);
        }
        return total;
    }

    /// <summary>
    /// The fewest bytes a line that starts with <paramref name="partial"/> (no LF yet) can take: the
    /// CRLF still to come, less a CR that has come.
    /// </summary>
    public static int ShortestLength(ReadOnlySpan<byte> partial) =>
        partial.Length + (!partial.IsEmpty && partial[^1] == (byte)'\r' ? 1 : 2);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RejectLine(ReadOnlySpan<byte> line, int stop)
    {
        if (stop < 0)
        {
            HttpReject.Throw(HttpRejectReason.InvalidHeaderLine, line);
        }
        byte b = line[stop];
        if (stop == 0 && HttpCharacters.IsWhitespace(b))
        {
            // RFC 9112 §5.2: a server MUST reject obs-fold (with 400) or unfold it; §2.2: whitespace before
            // the first field line must be rejected or the line ignored. Rejecting is the only choice
            // that cannot disagree with another parser in the chain.
            HttpReject.Throw(HttpRejectReason.ObsFold, line);
        }
        if (stop == 0 && b == (byte)':')
        {
            HttpReject.Throw(HttpRejectReason.InvalidFieldName, line);
        }
        if (HttpCharacters.IsWhitespace(b))
        {
            // RFC 9112 §5.1: a server MUST reject whitespace between field name and colon with 400,
            // the classic smuggling vector ("Transfer-Encoding : chunked").
            ReadOnlySpan<byte> after = HttpCharacters.TrimWhitespace(line[stop..]);
            if (!after.IsEmpty && after[0] == (byte)':')
            {
                HttpReject.Throw(HttpRejectReason.WhitespaceBeforeColon, line[..stop]);
            }
        }
        if (line.IndexOf((byte)':') < 0)
        {
            HttpReject.Throw(HttpRejectReason.InvalidHeaderLine, line);
        }
        HttpReject.Throw(HttpRejectReason.InvalidFieldName, line[..line.IndexOf((byte)':')]);
    }
}
