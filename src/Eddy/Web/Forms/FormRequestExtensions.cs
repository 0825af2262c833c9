using System.Runtime.CompilerServices;
using Eddy.Http;
using Eddy.Http.Parsing;
using Eddy.Web.Forms.Internal;

namespace Eddy.Web.Forms;

/// <summary>
/// Reads HTML forms from a request body as it streams in: <c>multipart/form-data</c> (RFC 7578) part by part with
/// <see cref="ReadMultipartAsync"/>, or either kind whole with <see cref="ReadFormAsync"/>. Bad input throws
/// <see cref="HttpRejectException"/>: <see cref="HttpRejectReason.InvalidForm"/> for a malformed form (400) and
/// <see cref="HttpRejectReason.FormTooLarge"/> past a limit of <see cref="FormOptions"/> (413); left uncaught,
/// the client gets that status with a message naming the rule, and the connection closes.
/// <code>
/// await foreach (MultipartSection part in ctx.Request.ReadMultipartAsync())
/// {
///     if (part.IsFile) { await using var file = File.Create(SafeName(part.FileName)); await part.Body.CopyToAsync(file); }
/// }
/// FormData form = await ctx.Request.ReadFormAsync(); // fields only; files skipped unless includeFiles
/// </code>
/// </summary>
public static class FormRequestExtensions
{
    /// <summary>
    /// The parts of a <c>multipart/form-data</c> body in order, each read as it arrives (its
    /// <see cref="MultipartSection.Body"/>); moving on skips what was not read of the previous one. Nothing is
    /// buffered but a partial delimiter and one part's header block, so a file of any size costs a fixed 64 KiB.
    /// A request of another type, or without a valid boundary, fails at the first step (400).
    /// </summary>
    public static async IAsyncEnumerable<MultipartSection> ReadMultipartAsync(this HttpRequest request, FormOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        byte[] boundary = FormContentType.Boundary(request.Headers["Content-Type"]);
        using var reader = new MultipartReader(request, boundary, options ?? FormOptions.Default);
        while (await reader.NextAsync(cancellationToken) is { } part)
        {
            yield return part;
        }
    }

    /// <summary>
    /// The whole form of an <c>application/x-www-form-urlencoded</c> or <c>multipart/form-data</c> body: its fields
    /// (each at most <see cref="FormOptions.MaxFieldSize"/> bytes) and, with <paramref name="includeFiles"/>, its files
    /// read into memory (together at most <see cref="FormOptions.MaxBufferedFileBytes"/>); without it files are
    /// skipped as they stream by. Another Content-Type is refused (400).
    /// </summary>
    public static async ValueTask<FormData> ReadFormAsync(this HttpRequest request, bool includeFiles = false, FormOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        options ??= FormOptions.Default;
        string? contentType = request.Headers["Content-Type"];
        if (FormContentType.IsUrlEncoded(contentType))
        {
            return new FormData(await UrlEncodedFormReader.ReadAsync(request, options, cancellationToken), []);
        }
        if (!FormContentType.IsMultipart(contentType))
        {
            throw new HttpRejectException(HttpRejectReason.InvalidForm, "Invalid form data: the request's Content-Type is neither application/x-www-form-urlencoded nor multipart/form-data.");
        }
        var fields = new List<KeyValuePair<string, string>>();
        var files = new List<FormFile>();
        long fileBytes = 0;
        await foreach (MultipartSection part in request.ReadMultipartAsync(options, cancellationToken))
        {
            if (part.IsFile && !includeFiles)
            {
                continue; // skipped by the enumeration
            }
            long limit = part.IsFile ? options.MaxBufferedFileBytes - fileBytes : options.MaxFieldSize;
            byte[] content = await ReadPartAsync(part, limit, cancellationToken) ?? throw new HttpRejectException(
                HttpRejectReason.FormTooLarge,
                part.IsFile ? $"Form data too large: the files are over {options.MaxBufferedFileBytes} bytes together." : $"Form data too large: a field is over {options.MaxFieldSize} bytes.");
            if (part.IsFile)
            {
                fileBytes += content.Length;
                files.Add(new FormFile(part.Name, part.FileName!, part.ContentType, content));
            }
            else
            {
                fields.Add(new(part.Name, System.Text.Encoding.UTF8.GetString(content)));
            }
        }
        return new FormData(fields, files);
    }

    /// <summary>A part's content, or null when it is over <paramref name="limit"/> bytes.</summary>
    private static async ValueTask<byte[]?> ReadPartAsync(MultipartSection part, long limit, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream();
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int n;
            while ((n = await part.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (content.Length + n > limit)
                {
                    return null;
                }
                content.Write(buffer, 0, n);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        return content.ToArray();
    }
}
