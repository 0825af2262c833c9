namespace Eddy.Web.Forms;

/// <summary>A file of a form read whole by <c>ReadFormAsync(includeFiles: true)</c>: its names, type and bytes.</summary>
public sealed class FormFile
{
    internal FormFile(string name, string fileName, string? contentType, byte[] content)
    {
        Name = name;
        FileName = fileName;
        ContentType = contentType;
        Content = content;
    }

    /// <summary>The form field's name.</summary>
    public string Name { get; }

    /// <summary>The file's name as the client gave it. Never trust it as a path.</summary>
    public string FileName { get; }

    /// <summary>The part's Content-Type, or null.</summary>
    public string? ContentType { get; }

    /// <summary>The file's bytes.</summary>
    public ReadOnlyMemory<byte> Content { get; }

    /// <summary>The file's size in bytes.</summary>
    public int Length => Content.Length;
}
