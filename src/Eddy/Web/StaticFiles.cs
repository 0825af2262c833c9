using System.Globalization;
using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.Web;

/// <summary>
/// Serves the files under one folder: content types by extension, <c>ETag</c>/<c>If-None-Match</c> and
/// <c>Last-Modified</c>/<c>If-Modified-Since</c> (304), single byte ranges (206, or 416 when unsatisfiable),
/// <c>index.html</c> for a folder, and a precompressed <c>FILE.br</c> or <c>FILE.gz</c> beside a file when the client
/// accepts that coding and sends no <c>Range</c> (as nginx's <c>gzip_static</c>: with the original's type,
/// <c>Content-Encoding</c>, <c>Vary: Accept-Encoding</c>, its own ETag). A path that would leave the folder (<c>..</c>, its encoded form, an
/// absolute path, a NUL) is answered 404, like a missing file. Bodies go with
/// <see cref="HttpResponse.SendFileAsync"/>: sendfile(2) on plain TCP, else 64 KiB pieces read on the loop thread
/// (TLS, or a response being compressed); a slow client pauses the sending. Symbolic links inside the folder are
/// followed.
/// </summary>
public sealed class StaticFiles
{
    private static readonly Dictionary<string, string> s_contentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".htm"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".mjs"] = "text/javascript; charset=utf-8",
        [".json"] = "application/json",
        [".txt"] = "text/plain; charset=utf-8",
        [".md"] = "text/markdown; charset=utf-8",
        [".xml"] = "application/xml",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".jpg"] = "image/jpeg",
        [".jpeg"] = "image/jpeg",
        [".gif"] = "image/gif",
        [".webp"] = "image/webp",
        [".ico"] = "image/x-icon",
        [".wasm"] = "application/wasm",
        [".pdf"] = "application/pdf",
        [".zip"] = "application/zip",
        [".gz"] = "application/gzip",
        [".woff"] = "font/woff",
        [".woff2"] = "font/woff2",
        [".mp4"] = "video/mp4",
        [".mp3"] = "audio/mpeg",
    };

    private readonly string _root; // full path, ending with a separator

    /// <summary>Serves the files under <paramref name="directory"/> (made absolute); paths that would leave it get 404.</summary>
    public StaticFiles(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string full = Path.GetFullPath(directory);
        if (!Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"The static files folder {full} does not exist.");
        }
        _root = Path.EndsInDirectorySeparator(full) ? full : full + Path.DirectorySeparatorChar;
    }

    /// <summary>The folder served, as an absolute path.</summary>
    public string Root => _root;

    /// <summary>Serves the file named by the route value <c>path</c> (a catch-all, already percent-decoded).</summary>
    public async ValueTask ServeAsync(HttpContext context)
    {
        string relative = context.Request.RouteValues.GetString("path") ?? "";
        string? file = Resolve(relative);
        if (file is null)
        {
            NotFound(context.Response);
            return;
        }
        string contentType = s_contentTypes.GetValueOrDefault(Path.GetExtension(file), "application/octet-stream");
        HttpResponse response = context.Response;
        (file, string? coding) = ChoosePrecompressed(file, context.Request.Headers, response);
        var info = new FileInfo(file);
        long length = info.Length;
        DateTimeOffset modified = new DateTimeOffset(info.LastWriteTimeUtc).ToUniversalTime();
        modified = modified.AddTicks(-(modified.Ticks % TimeSpan.TicksPerSecond)); // HTTP dates have whole seconds
        string etag = coding is null ? $"\"{length:x}-{modified.UtcTicks:x}\"" : $"\"{length:x}-{modified.UtcTicks:x}-{coding}\"";
        if (coding is not null)
        {
            response.Headers.Set("Content-Encoding", coding);
        }

        response.Headers.Set("ETag", etag);
        response.Headers.Set("Last-Modified", modified.ToString("r", CultureInfo.InvariantCulture));
        response.Headers.Set("Accept-Ranges", "bytes");
        HttpRequestHeaders headers = context.Request.Headers;
        if (IsNotModified(headers, etag, modified))
        {
            response.StatusCode = 304;
            response.CompleteStream();
            return;
        }

        long start = 0, count = length;
        if (headers["Range"] is { } range && !IsStaleIfRange(headers, etag, modified))
        {
            switch (TryParseRange(range, length, out start, out count))
            {
                case RangeResult.Satisfiable:
                    response.StatusCode = 206;
                    response.Headers.Set("Content-Range", $"bytes {start}-{start + count - 1}/{length}");
                    break;
                case RangeResult.Unsatisfiable:
                    response.StatusCode = 416;
                    response.Headers.Set("Content-Range", $"bytes */{length}");
                    response.Text("Range Not Satisfiable\n");
                    return;
                default:
                    start = 0; // not a single byte range we serve: the whole file (RFC 9110 §14.2 allows ignoring Range)
                    count = length;
                    break;
            }
        }

        response.BeginBody(count, contentType);
        if (context.Request.Verb == HttpVerb.Head || count == 0)
        {
            return;
        }
        using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        await response.SendFileAsync(handle, start, count);
    }

    /// <summary>
    /// <paramref name="file"/>, or its precompressed sibling (<c>.br</c> before <c>.gz</c> on equal weight) and the coding
    /// to name, when the client accepts it and asks no range. Where a sibling exists the answer varies by
    /// <c>Accept-Encoding</c>, so <c>Vary</c> is set whichever is sent.
    /// </summary>
    private static (string File, string? Coding) ChoosePrecompressed(string file, HttpRequestHeaders headers, HttpResponse response)
    {
        bool hasBrotli = File.Exists(file + ".br");
        bool hasGzip = File.Exists(file + ".gz");
        if (!hasBrotli && !hasGzip)
        {
            return (file, null);
        }
        response.Headers.Set("Vary", "Accept-Encoding");
        if (headers["Range"] is not null)
        {
            return (file, null); // ranges are served from the file itself
        }
        (double brotli, double gzip) = Eddy.Http.Internal.ContentCodings.Weights(headers["Accept-Encoding"]);
        if (hasBrotli && brotli > 0 && (!hasGzip || brotli >= gzip))
        {
            return (file + ".br", "br");
        }
        return hasGzip && gzip > 0 ? (file + ".gz", "gzip") : (file, null);
    }

    /// <summary>The file for a request path, or null when it is missing or would lie outside the folder.</summary>
    internal string? Resolve(string relative)
    {
        if (relative.Contains('\0') || relative.StartsWith('/') || relative.StartsWith('\\'))
        {
            return null;
        }
        foreach (string segment in relative.Split('/', '\\'))
        {
            if (segment == "..")
            {
                return null;
            }
        }
        string full = Path.GetFullPath(Path.Combine(_root, relative));
        if (!full.StartsWith(_root, StringComparison.Ordinal) && full + Path.DirectorySeparatorChar != _root)
        {
            return null;
        }
        if (Directory.Exists(full))
        {
            full = Path.Combine(full, "index.html");
        }
        return File.Exists(full) ? full : null;
    }

    private static void NotFound(HttpResponse response)
    {
        response.StatusCode = 404;
        response.Text("Not Found\n");
    }

    private static bool IsNotModified(HttpRequestHeaders headers, string etag, DateTimeOffset modified)
    {
        if (headers["If-None-Match"] is { } match)
        {
            // Weak comparison (RFC 9110 §13.1.2): W/ prefixes do not matter.
            foreach (string candidate in match.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (candidate == "*" || candidate.Replace("W/", "") == etag)
                {
                    return true;
                }
            }
            return false;
        }
        return headers["If-Modified-Since"] is { } since
            && DateTimeOffset.TryParseExact(since, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset date)
            && modified <= date;
    }

    private static bool IsStaleIfRange(HttpRequestHeaders headers, string etag, DateTimeOffset modified)
    {
        if (headers["If-Range"] is not { } ifRange)
        {
            return false;
        }
        if (ifRange.StartsWith('"'))
        {
            return ifRange != etag;
        }
        return !DateTimeOffset.TryParseExact(ifRange, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset date) || modified != date;
    }

    private enum RangeResult
    {
        Ignored,
        Satisfiable,
        Unsatisfiable,
    }

    /// <summary>One range of <c>bytes=first-last</c>, <c>bytes=first-</c> or <c>bytes=-suffix</c> (RFC 9110 §14.1.2).</summary>
    private static RangeResult TryParseRange(string header, long length, out long start, out long count)
    {
        start = 0;
        count = length;
        if (!header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) || header.Contains(','))
        {
            return RangeResult.Ignored; // another unit, or several ranges
        }
        string spec = header[6..].Trim();
        int dash = spec.IndexOf('-');
        if (dash < 0)
        {
            return RangeResult.Ignored;
        }
        string first = spec[..dash].Trim(), last = spec[(dash + 1)..].Trim();
        if (first.Length == 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out long suffix))
            {
                return RangeResult.Ignored;
            }
            if (suffix == 0 || length == 0)
            {
                return RangeResult.Unsatisfiable;
            }
            count = Math.Min(suffix, length);
            start = length - count;
            return RangeResult.Satisfiable;
        }
        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out start))
        {
            return RangeResult.Ignored;
        }
        long end = length - 1;
        if (last.Length > 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out long lastByte) || lastByte < start)
            {
                return RangeResult.Ignored;
            }
            end = Math.Min(lastByte, length - 1);
        }
        if (start >= length)
        {
            return RangeResult.Unsatisfiable;
        }
        count = end - start + 1;
        return RangeResult.Satisfiable;
    }
}
