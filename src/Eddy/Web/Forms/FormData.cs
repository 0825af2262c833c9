namespace Eddy.Web.Forms;

/// <summary>
/// A form read whole by <see cref="FormRequestExtensions.ReadFormAsync"/>: its fields in the order received
/// (a name may repeat), and its files when they were asked for.
/// </summary>
public sealed class FormData
{
    internal FormData(List<KeyValuePair<string, string>> fields, List<FormFile> files)
    {
        Fields = fields;
        Files = files;
    }

    /// <summary>The fields, name and value, in the order received.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Fields { get; }

    /// <summary>The files (only with <c>includeFiles: true</c>; empty otherwise).</summary>
    public IReadOnlyList<FormFile> Files { get; }

    /// <summary>The first value of field <paramref name="name"/>, or null.</summary>
    public string? this[string name] => Fields.FirstOrDefault(f => f.Key == name).Value;

    /// <summary>Every value of field <paramref name="name"/>, in order.</summary>
    public IEnumerable<string> GetValues(string name) => Fields.Where(f => f.Key == name).Select(f => f.Value);
}
