using System.IO.Compression;

namespace Eddy.Http;

/// <summary>
/// What response compression (<c>app.UseResponseCompression(options)</c>) compresses and how. Defaults follow ASP.NET
/// Core's response compression: brotli and gzip, text-like types only, off for HTTPS (BREACH).
/// </summary>
public sealed class ResponseCompressionOptions
{
    /// <summary>
    /// Compress HTTPS responses too. Off by default: a compressed response that reflects attacker-chosen input beside
    /// a secret (a CSRF token, a session value) leaks the secret through its length (BREACH). Turn it on for responses
    /// that never mix the two.
    /// </summary>
    public bool EnableForHttps { get; set; }

    /// <summary>
    /// Which requests compression applies to at all; null (the default): every one. A request this answers false for is
    /// left alone entirely, without even <c>Vary</c> (e.g. a benchmark route that must answer uncompressed).
    /// </summary>
    public Func<HttpContext, bool>? RequestFilter { get; set; }

    /// <summary>Bodies shorter than this are sent as they are (compression would save nothing). Default 256 bytes.</summary>
    public int MinimumSize { get; set; } = 256;

    /// <summary>
    /// The media types compressed (parameters such as <c>charset</c> ignored; a type ending in <c>/*</c> matches its whole
    /// family). Default: ASP.NET Core's list — text/plain, text/css, text/html, text/xml, text/json, application/json,
    /// application/xml, application/javascript, text/javascript, application/wasm, image/svg+xml — plus
    /// application/manifest+json and application/problem+json. <c>text/event-stream</c> is never compressed, whatever
    /// this says: an event must reach the client when it is sent.
    /// </summary>
    public ISet<string> MimeTypes { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "text/plain", "text/css", "text/html", "text/xml", "text/json", "application/json", "application/xml",
        "application/javascript", "text/javascript", "application/wasm", "image/svg+xml", "application/manifest+json",
        "application/problem+json",
    };

    /// <summary>gzip's level. Default <see cref="CompressionLevel.Fastest"/> (as ASP.NET Core): dynamic content is compressed per response.</summary>
    public CompressionLevel GzipLevel { get; set; } = CompressionLevel.Fastest;

    /// <summary>Brotli's quality, 0–11. Default 4: most of brotli's gain over gzip at a small cost (11 is for precompressing files).</summary>
    public int BrotliQuality
    {
        get;
        set => field = value is >= 0 and <= 11 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Brotli's quality is 0 to 11.");
    } = 4;

    /// <summary>Whether <paramref name="contentType"/> (a Content-Type value) is one this compresses.</summary>
    public bool IsCompressible(string? contentType)
    {
        if (contentType is null)
        {
            return false;
        }
        ReadOnlySpan<char> mediaType = contentType.AsSpan();
        int semicolon = mediaType.IndexOf(';');
        mediaType = (semicolon >= 0 ? mediaType[..semicolon] : mediaType).Trim();
        if (mediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        if (MimeTypes is HashSet<string> set && set.TryGetAlternateLookup(out HashSet<string>.AlternateLookup<ReadOnlySpan<char>> lookup))
        {
            if (lookup.Contains(mediaType))
            {
                return true; // the common case: no string made
            }
        }
        else if (MimeTypes.Contains(mediaType.ToString()))
        {
            return true;
        }
        string type = mediaType.ToString();
        int slash = type.IndexOf('/');
        return slash > 0 && MimeTypes.Contains(string.Concat(type.AsSpan(0, slash), "/*"));
    }
}
