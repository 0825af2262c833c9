namespace Eddy.Web.Forms;

/// <summary>
/// The limits a form is read under (<see cref="FormRequestExtensions"/>). Past one, reading throws
/// <c>HttpRejectException</c> with <c>FormTooLarge</c>: left uncaught, the client gets 413 with the limit named,
/// and the connection closes (the rest of the body is not read). The request's own
/// <c>HttpRequest.MaxBodySize</c> (30 MB by default) applies as well. An immutable record: one instance serves
/// every request.
/// </summary>
public sealed record FormOptions
{
    /// <summary>The defaults: 1024 parts, 16 KiB of headers per part, 1 MiB per field, 32 MiB of buffered files, no total limit of its own.</summary>
    public static FormOptions Default { get; } = new();

    /// <summary>How many parts (multipart) or fields (urlencoded) a form may have. Default 1024, as ASP.NET Core's ValueCountLimit.</summary>
    public int MaxParts { get; init; } = 1024;

    /// <summary>The largest header block of one part, blank line included. Default 16 KiB, as ASP.NET Core's MultipartHeadersLengthLimit.</summary>
    public int MaxPartHeaderBytes { get; init; } = 16 * 1024;

    /// <summary>The largest field value (and urlencoded field name) held in memory by <c>ReadFormAsync</c>. Default 1 MiB.</summary>
    public int MaxFieldSize { get; init; } = 1024 * 1024;

    /// <summary>The most file bytes <c>ReadFormAsync(includeFiles: true)</c> buffers, all files together. Default 32 MiB.</summary>
    public long MaxBufferedFileBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>The largest form body, preamble and epilogue included; null: only the request's MaxBodySize. Default null.</summary>
    public long? MaxTotalSize { get; init; }
}
