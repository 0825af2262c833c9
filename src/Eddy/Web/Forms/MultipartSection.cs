using Eddy.Web.Forms.Internal;

namespace Eddy.Web.Forms;

/// <summary>
/// One part of a <c>multipart/form-data</c> body, as <see cref="FormRequestExtensions.ReadMultipartAsync"/>
/// yields it: its name, file name and type, and its content as a <see cref="Stream"/> that reads from the request
/// as it arrives. Valid until the enumeration moves on; what the handler did not read of it is then skipped.
/// </summary>
public sealed class MultipartSection
{
    internal MultipartSection(MultipartReader reader, string name, string? fileName, string? contentType)
    {
        Name = name;
        FileName = fileName;
        ContentType = contentType;
        Body = new MultipartSectionStream(reader);
    }

    /// <summary>The form field's name (Content-Disposition <c>name</c>).</summary>
    public string Name { get; }

    /// <summary>The file's name as the client gave it (Content-Disposition <c>filename</c>), or null for a field. Never trust it as a path.</summary>
    public string? FileName { get; }

    /// <summary>True when the part is a file (it has a <see cref="FileName"/>).</summary>
    public bool IsFile => FileName is not null;

    /// <summary>The part's Content-Type, or null when the client sent none (then <c>text/plain</c>, RFC 7578 §4.4).</summary>
    public string? ContentType { get; }

    /// <summary>The part's content, read as it arrives: <c>ReadAsync</c> returns 0 at the end of the part.</summary>
    public Stream Body { get; }
}
