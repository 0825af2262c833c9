namespace Eddy.Web.Routing.Internal;

/// <summary>
/// Literal segments compare ASCII letters case-insensitively and every other character exactly (as
/// ASP.NET Core's matcher does for ASCII). Unlike <see cref="System.Text.Ascii.EqualsIgnoreCase(ReadOnlySpan{char}, ReadOnlySpan{char})"/>,
/// a non-ASCII character is not a mismatch: it must simply be the same character.
/// </summary>
internal static class AsciiCase
{
    public static bool EqualsIgnoreCase(ReadOnlySpan<char> left, ReadOnlySpan<char> right)
    {
        if (left.Length != right.Length)
        {
            return false;
        }
        for (int i = 0; i < left.Length; i++)
        {
            uint x = left[i];
            uint y = right[i];
            if (x != y)
            {
                // Only bit 0x20 may differ, and only for letters: (x | 0x20) in 'a'..'z' means x was a letter.
                uint lower = x | 0x20;
                if (lower != (y | 0x20) || lower - 'a' > 'z' - 'a')
                {
                    return false;
                }
            }
        }
        return true;
    }

    /// <summary>FNV-1a over the characters with ASCII letters folded to lower case; consistent with <see cref="EqualsIgnoreCase"/>.</summary>
    public static uint Hash(ReadOnlySpan<char> value)
    {
        uint hash = 2166136261;
        foreach (char c in value)
        {
            uint x = c;
            if (x - 'A' <= 'Z' - 'A')
            {
                x |= 0x20;
            }
            hash = (hash ^ x) * 16777619;
        }
        return hash;
    }

    /// <summary>ASCII letters lowered, everything else kept: the canonical form of a literal in a route's shape key.</summary>
    public static string ToLower(string value) => string.Create(value.Length, value, static (span, source) =>
    {
        for (int i = 0; i < span.Length; i++)
        {
            char c = source[i];
            span[i] = (uint)(c - 'A') <= 'Z' - 'A' ? (char)(c | 0x20) : c;
        }
    });
}

/// <summary>The <see cref="AsciiCase"/> comparison as an equality comparer, for the tree builder's dictionaries.</summary>
internal sealed class AsciiIgnoreCaseComparer : IEqualityComparer<string>
{
    public static readonly AsciiIgnoreCaseComparer Instance = new();

    public bool Equals(string? x, string? y) => x is null ? y is null : y is not null && AsciiCase.EqualsIgnoreCase(x, y);

    public int GetHashCode(string obj) => (int)AsciiCase.Hash(obj);
}
