using Eddy.Http.Internal;

namespace Eddy.Http;

/// <summary>
/// The fields of a response, in the order they were added. Names are matched case-insensitively.
/// Values must not contain CR or LF (which would let a value inject fields: response splitting).
/// </summary>
public sealed class HttpResponseHeaders
{
    private readonly List<KeyValuePair<string, string>> _fields = [];

    /// <summary>How many fields are set.</summary>
    public int Count => _fields.Count;

    /// <summary>Adds a field, keeping any others of the same name.</summary>
    public void Add(string name, string value)
    {
        Validate(name, value);
        _fields.Add(new(name, value));
    }

    /// <summary>Sets a field, replacing any others of the same name.</summary>
    public void Set(string name, string value)
    {
        Validate(name, value);
        Remove(name);
        _fields.Add(new(name, value));
    }

    /// <summary>Removes every field of this name (case-insensitive); true if there was one.</summary>
    public bool Remove(string name) => _fields.RemoveAll(f => f.Key.Equals(name, StringComparison.OrdinalIgnoreCase)) > 0;

    /// <summary>The value of the field of this name (case-insensitive), or null; setting replaces it (null removes it).</summary>
    public string? this[string name]
    {
        get
        {
            foreach (KeyValuePair<string, string> field in _fields)
            {
                if (field.Key.Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return field.Value;
                }
            }
            return null;
        }
        set
        {
            if (value is null)
            {
                Remove(name);
            }
            else
            {
                Set(name, value);
            }
        }
    }

    /// <summary>The fields, in the order they were set.</summary>
    public IEnumerable<KeyValuePair<string, string>> All => _fields;

    internal void Clear() => _fields.Clear();

    internal void WriteTo(ResponseBuffer output)
    {
        foreach (KeyValuePair<string, string> field in _fields)
        {
            output.WriteAscii(field.Key);
            output.Write(": "u8);
            output.WriteAscii(field.Value);
            output.Write("\r\n"u8);
        }
    }

    private static void Validate(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        if (name.AsSpan().ContainsAny(":\r\n \t") || value.AsSpan().ContainsAny('\r', '\n'))
        {
            throw new ArgumentException($"'{name}' is not a valid field: names are tokens, and values must not contain CR or LF.");
        }
        string lower = name.ToLowerInvariant();
        if (lower is "content-length" or "transfer-encoding" or "date" or "server")
        {
            throw new ArgumentException($"{name} is set by Eddy, not by the application.", nameof(name));
        }
    }
}
