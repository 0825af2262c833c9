using System.Diagnostics.CodeAnalysis;
using Eddy.Web.Routing.Internal;

namespace Eddy.Web.Routing;

/// <summary>
/// The parameter values of a matched route, by name (ASCII case-insensitive, as ASP.NET's route values). Each
/// value is a slice of the path that was matched (an offset and a length, held inline for up to
/// <see cref="Capacity"/> parameters), so matching allocates nothing: reading a value as a span or through a
/// typed getter (<see cref="TryGetInt"/>, …) allocates nothing either; only <see cref="TryGetString"/> and
/// <see cref="GetString(int)"/> create a string. Values are the path as given to the router (already
/// percent-decoded by the HTTP layer). An omitted optional parameter has no value; an empty catch-all has
/// the empty value. The values stay valid as long as the path's memory does.
/// </summary>
public readonly struct RouteValues
{
    /// <summary>Most parameters a route template may have.</summary>
    public const int Capacity = 8;

    private readonly ReadOnlyMemory<char> _path;
    private readonly string[]? _names;
    private readonly CaptureBuffer _captures;
    private readonly int _count;

    internal RouteValues(ReadOnlyMemory<char> path, string[] names, in CaptureBuffer captures, int count)
    {
        _path = path;
        _names = names;
        _captures = captures;
        _count = count;
    }

    /// <summary>How many parameters have a value (an omitted optional parameter is not counted).</summary>
    public int Count => _count;

    /// <summary>The name of the <paramref name="index"/>th value, in template order.</summary>
    public string GetName(int index)
    {
        CheckIndex(index);
        return _names![index];
    }

    /// <summary>The <paramref name="index"/>th value, as a slice of the decoded path (no allocation).</summary>
    public ReadOnlySpan<char> GetSpan(int index)
    {
        CheckIndex(index);
        return _path.Span.Slice(_captures[index].Start, _captures[index].Length);
    }

    /// <summary>The <paramref name="index"/>th value, as memory over the decoded path (no allocation).</summary>
    public ReadOnlyMemory<char> GetMemory(int index)
    {
        CheckIndex(index);
        return _path.Slice(_captures[index].Start, _captures[index].Length);
    }

    /// <summary>The value as a new string (allocates).</summary>
    public string GetString(int index) => GetSpan(index).ToString();

    /// <summary>Whether a value of this name (case-insensitive) was captured.</summary>
    public bool Contains(string name) => IndexOf(name) >= 0;

    /// <summary>The value of this name as a slice of the decoded path; false if the route has none.</summary>
    public bool TryGetSpan(string name, out ReadOnlySpan<char> value)
    {
        int index = IndexOf(name);
        if (index < 0)
        {
            value = default;
            return false;
        }
        value = _path.Span.Slice(_captures[index].Start, _captures[index].Length);
        return true;
    }

    /// <summary>The value of this name as memory over the decoded path; false if the route has none.</summary>
    public bool TryGetMemory(string name, out ReadOnlyMemory<char> value)
    {
        int index = IndexOf(name);
        value = index < 0 ? default : _path.Slice(_captures[index].Start, _captures[index].Length);
        return index >= 0;
    }

    /// <summary>The value as a new string (allocates).</summary>
    public bool TryGetString(string name, [NotNullWhen(true)] out string? value)
    {
        value = TryGetSpan(name, out ReadOnlySpan<char> span) ? span.ToString() : null;
        return value is not null;
    }

    /// <summary>The value as a new string, or null when the parameter has no value.</summary>
    public string? GetString(string name) => TryGetSpan(name, out ReadOnlySpan<char> span) ? span.ToString() : null;

    /// <summary>Optional sign and decimal digits, as the <c>int</c> constraint accepts; false if absent, malformed or out of range.</summary>
    public bool TryGetInt(string name, out int value)
    {
        value = 0;
        return TryGetSpan(name, out ReadOnlySpan<char> span) && ValueParsers.TryParseInt(span, out value);
    }

    /// <summary>Optional sign and decimal digits, as the <c>long</c> constraint accepts.</summary>
    public bool TryGetLong(string name, out long value)
    {
        value = 0;
        return TryGetSpan(name, out ReadOnlySpan<char> span) && ValueParsers.TryParseLong(span, out value);
    }

    /// <summary>The guid formats D, N, B and P, as the <c>guid</c> constraint accepts.</summary>
    public bool TryGetGuid(string name, out Guid value)
    {
        value = default;
        return TryGetSpan(name, out ReadOnlySpan<char> span) && ValueParsers.TryParseGuid(span, out value);
    }

    /// <summary><c>true</c> or <c>false</c> in any ASCII case, as the <c>bool</c> constraint accepts.</summary>
    public bool TryGetBool(string name, out bool value)
    {
        value = false;
        return TryGetSpan(name, out ReadOnlySpan<char> span) && ValueParsers.TryParseBool(span, out value);
    }

    /// <summary>Enumerates the values in template order, without allocating.</summary>
    public Enumerator GetEnumerator() => new(this);

    private int IndexOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string[]? names = _names;
        for (int i = 0; i < _count; i++)
        {
            // The caller usually passes the same literal the template was written with: try the reference first.
            if (ReferenceEquals(names![i], name) || AsciiCase.EqualsIgnoreCase(names[i], name))
            {
                return i;
            }
        }
        return -1;
    }

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)_count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"There are {_count} route values.");
        }
    }

    /// <summary>Enumerates (name, value) pairs in template order without allocating.</summary>
    public struct Enumerator
    {
        private readonly RouteValues _values;
        private int _index;

        internal Enumerator(RouteValues values)
        {
            _values = values;
            _index = -1;
        }

        /// <summary>The value the enumerator is at.</summary>
        public readonly RouteValue Current => new(_values.GetName(_index), _values.GetMemory(_index));

        /// <summary>Moves to the next value; false after the last.</summary>
        public bool MoveNext() => ++_index < _values.Count;
    }
}

/// <summary>One route value: the parameter's name and its slice of the path.</summary>
public readonly record struct RouteValue(string Name, ReadOnlyMemory<char> Value)
{
    /// <summary>"name=value".</summary>
    public override string ToString() => $"{Name}={Value}";
}
