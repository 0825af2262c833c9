using System.Buffers;
using System.Runtime.CompilerServices;

namespace Eddy.Http.Parsing.Internal;

/// <summary>
/// The byte classes of RFC 9110/9112 as <see cref="SearchValues{T}"/>, so validation is one vectorized
/// <c>IndexOfAny</c>/<c>IndexOfAnyExcept</c> per span rather than a loop per byte.
/// </summary>
internal static class HttpCharacters
{
    private const string Alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const string Digit = "0123456789";

    /// <summary>tchar (RFC 9110 §5.6.2): what methods, field names and transfer codings are made of.</summary>
    public static readonly SearchValues<byte> Token = Create(Alpha + Digit + "!#$%&'*+-.^_`|~");

    /// <summary>
    /// The bytes a field value may not hold: the controls except HTAB, and DEL. Everything else is
    /// field-vchar, SP or HTAB, including obs-text 0x80-0xFF (RFC 9110 §5.5).
    /// </summary>
    public static readonly SearchValues<byte> FieldValueInvalid = CreateFieldValueInvalid();

    /// <summary>
    /// The bytes of a request-target: visible ASCII except <c>#</c> (a fragment is never sent, RFC 9112
    /// §3.2). Stricter than RFC 3986 would be lenient (raw <c>{}|^</c> are common in queries), stricter
    /// than Kestrel about non-ASCII (it must be percent-encoded).
    /// </summary>
    public static readonly SearchValues<byte> Target = CreateTarget();

    /// <summary>
    /// The bytes of uri-host [":" port] (RFC 3986 §3.2.2): unreserved, pct-encoded, sub-delims, ':' and
    /// the brackets of an IP-literal.
    /// </summary>
    public static readonly SearchValues<byte> Host = Create(Alpha + Digit + "-._~%!$&'()*+,;=:[]");

    /// <summary>reg-name and IPv4address (RFC 3986 §3.2.2): as <see cref="Host"/> without ':' and brackets.</summary>
    public static readonly SearchValues<byte> RegName = Create(Alpha + Digit + "-._~%!$&'()*+,;=");

    /// <summary>The inside of an IP-literal: IPv6address or IPvFuture, loosely.</summary>
    public static readonly SearchValues<byte> IpLiteral = Create(Alpha + Digit + "-._~!$&'()*+,;=:");

    /// <summary>The bytes after the first letter of a URI scheme (RFC 3986 §3.1).</summary>
    public static readonly SearchValues<byte> Scheme = Create(Alpha + Digit + "+-.");

    public static readonly SearchValues<byte> Digits = Create(Digit);

    /// <summary>OWS is SP or HTAB (RFC 9110 §5.6.3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsWhitespace(byte b) => b == (byte)' ' || b == (byte)'\t';

    /// <summary>Removes leading and trailing OWS.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> TrimWhitespace(ReadOnlySpan<byte> value)
    {
        int start = 0;
        while ((uint)start < (uint)value.Length && IsWhitespace(value[start]))
        {
            start++;
        }
        int end = value.Length;
        while (end > start && IsWhitespace(value[end - 1]))
        {
            end--;
        }
        return value[start..end];
    }

    /// <summary>The value of a hex digit, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int HexValue(byte b)
    {
        // (uint) folds "below '0'" into "above '9'": one compare per range.
        if ((uint)(b - '0') <= 9)
        {
            return b - '0';
        }
        int lower = b | 0x20; // ASCII letters differ from their lower case only in bit 0x20
        if ((uint)(lower - 'a') <= 'f' - 'a')
        {
            return lower - 'a' + 10;
        }
        return -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static SearchValues<byte> Create(string chars)
    {
        var bytes = new byte[chars.Length];
        for (int i = 0; i < chars.Length; i++)
        {
            bytes[i] = (byte)chars[i];
        }
        return SearchValues.Create(bytes);
    }

    private static SearchValues<byte> CreateFieldValueInvalid()
    {
        var bytes = new List<byte>();
        for (int b = 0; b < 0x20; b++)
        {
            if (b != '\t')
            {
                bytes.Add((byte)b);
            }
        }
        bytes.Add(0x7F);
        return SearchValues.Create(bytes.ToArray());
    }

    private static SearchValues<byte> CreateTarget()
    {
        var bytes = new List<byte>();
        for (int b = 0x21; b <= 0x7E; b++)
        {
            if (b != '#')
            {
                bytes.Add((byte)b);
            }
        }
        return SearchValues.Create(bytes.ToArray());
    }
}
