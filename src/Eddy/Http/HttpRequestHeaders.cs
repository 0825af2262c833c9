using System.Text;

namespace Eddy.Http;

/// <summary>
/// A view of a request's fields (or trailers) in the order received, names as received. Lookups compare
/// names case-insensitively; strings are made only for what is read. Valid while its request is.
/// </summary>
public readonly struct HttpRequestHeaders
{
    private readonly HttpRequest _request;
    private readonly bool _trailers;

    internal HttpRequestHeaders(HttpRequest request, bool trailers)
    {
        _request = request;
        _trailers = trailers;
    }

    /// <summary>How many fields, repeats counted.</summary>
    public int Count => _trailers ? _request.TrailerCount : _request.HeaderCount;

    /// <summary>The name of field <paramref name="index"/>, as received.</summary>
    public string NameAt(int index) => Encoding.Latin1.GetString(_request.HeaderName(CheckIndex(index), _trailers));

    /// <summary>The value of field <paramref name="index"/> (Latin-1, as RFC 9110 §5.5 allows obs-text).</summary>
    public string ValueAt(int index) => Encoding.Latin1.GetString(_request.HeaderValue(CheckIndex(index), _trailers));

    /// <summary>The first value of <paramref name="name"/>, or null.</summary>
    public string? this[string name] => TryGetValue(name, out string? value) ? value : null;

    /// <summary>Whether a field of this name (case-insensitive) is present.</summary>
    public bool Contains(string name) => IndexOf(name, 0) >= 0;

    /// <summary>The first value of <paramref name="name"/>.</summary>
    public bool TryGetValue(string name, out string? value)
    {
        int index = IndexOf(name, 0);
        value = index >= 0 ? ValueAt(index) : null;
        return index >= 0;
    }

    /// <summary>Every value of <paramref name="name"/>, in order.</summary>
    public IEnumerable<string> GetValues(string name)
    {
        var values = new List<string>();
        for (int i = IndexOf(name, 0); i >= 0; i = IndexOf(name, i + 1))
        {
            values.Add(ValueAt(i));
        }
        return values;
    }

    /// <summary>True when field <paramref name="index"/>'s name equals <paramref name="name"/>, ignoring ASCII case; allocates nothing.</summary>
    public bool NameEquals(int index, ReadOnlySpan<byte> name) => Ascii.EqualsIgnoreCase(_request.HeaderName(CheckIndex(index), _trailers), name);

    private int IndexOf(string name, int start)
    {
        int count = Count;
        for (int i = start; i < count; i++)
        {
            if (Ascii.EqualsIgnoreCase(_request.HeaderName(i, _trailers), name))
            {
                return i;
            }
        }
        return -1;
    }

    private int CheckIndex(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return index;
    }
}
