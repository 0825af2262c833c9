namespace Eddy.Http.Parsing;

/// <summary>
/// The limits that bound what one request head (and the framing of a chunked body) may cost the server in
/// memory and time. They also bound the per-connection buffer: a head that cannot complete within them is
/// rejected as soon as that is known, not when it ends. The body's size is the server's policy, not the
/// parser's: <see cref="HttpBodyDecoder"/> enforces it. Immutable once built; share one instance between connections.
/// </summary>
public sealed class HttpParserLimits
{
    /// <summary>The defaults: 8 KiB request-line, 32 KiB of field lines, 100 fields, 4 KiB of chunk extensions.</summary>
    public static HttpParserLimits Default { get; } = new();

    /// <summary>The longest request-line, its CRLF included; longer is 414. Default 8 KiB (Kestrel's default too).</summary>
    public int MaxRequestLineLength
    {
        get;
        init => field = Positive(value);
    } = 8 * 1024;

    /// <summary>
    /// The most bytes of field lines in a head (or in a trailer section), each line's CRLF and the empty
    /// line that ends the section included, the request-line not; more is 431. Default 32 KiB.
    /// </summary>
    public int MaxHeaderBytes
    {
        get;
        init => field = Positive(value);
    } = 32 * 1024;

    /// <summary>The most field lines in a head (or in a trailer section); more is 431. Default 100.</summary>
    public int MaxHeaderCount
    {
        get;
        init => field = Positive(value);
    } = 100;

    /// <summary>
    /// The most bytes of chunk extensions on one chunk-size line, counted from the end of the hex digits
    /// (whitespace, <c>;</c> and all) to the CR; more is 400. Extensions are skipped, but a peer must not
    /// make the server skip without end. Default 4 KiB.
    /// </summary>
    public int MaxChunkExtensionLength
    {
        get;
        init => field = Positive(value);
    } = 4 * 1024;

    private static int Positive(int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
        return value;
    }
}
