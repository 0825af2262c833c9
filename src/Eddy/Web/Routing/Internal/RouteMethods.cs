using Eddy.Http.Parsing;

namespace Eddy.Web.Routing.Internal;

/// <summary>
/// Method indices for the router's per-method tables. The methods of RFC 9110 §9.3 and PATCH (RFC 5789)
/// have fixed indices; extension methods get the next free index when a route first uses them. An index
/// is a bit in a <see cref="ulong"/> mask, so a router knows at most <see cref="MaxCount"/> methods.
/// </summary>
internal static class RouteMethods
{
    public const int Get = 0;
    public const int Head = 1;
    public const int Post = 2;
    public const int Put = 3;
    public const int Delete = 4;
    public const int Patch = 5;
    public const int Options = 6;
    public const int Trace = 7;
    public const int Connect = 8;

    /// <summary>How many methods have a fixed index.</summary>
    public const int KnownCount = 9;

    /// <summary>At most this many methods (known and extension) per router: one bit each in the Allow mask.</summary>
    public const int MaxCount = 64;

    /// <summary>The method token that registers a route for every method.</summary>
    public const string Any = "*";

    public static readonly string[] KnownNames = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"];

    /// <summary>
    /// The fixed index of a known method, or -1. Case-sensitive: "The method token is case-sensitive"
    /// (RFC 9110 §9.1), so "get" is an extension method, not GET.
    /// </summary>
    public static int IndexOfKnown(ReadOnlySpan<char> method) => method switch
    {
        "GET" => Get,
        "HEAD" => Head,
        "POST" => Post,
        "PUT" => Put,
        "DELETE" => Delete,
        "PATCH" => Patch,
        "OPTIONS" => Options,
        "TRACE" => Trace,
        "CONNECT" => Connect,
        _ => -1,
    };

    /// <summary>
    /// The fixed index of a parsed request's method, without its string; -1 for <see cref="HttpVerb.Extension"/>,
    /// whose index depends on the token (the router may name it), so the caller must match by name.
    /// </summary>
    public static int IndexOfKnown(HttpVerb verb)
    {
        ReadOnlySpan<sbyte> indices = VerbIndices;
        // (uint) cast: one compare rejects any value outside the enum's range.
        return (uint)verb < (uint)indices.Length ? indices[(int)verb] : -1;
    }

    /// <summary>Index by <see cref="HttpVerb"/> value (Extension, Get, Head, Post, Put, Delete, Options, Patch, Trace, Connect).</summary>
    private static ReadOnlySpan<sbyte> VerbIndices => [-1, Get, Head, Post, Put, Delete, Options, Patch, Trace, Connect];

    /// <summary>True if <paramref name="method"/> is an RFC 9110 §5.6.2 token (1*tchar).</summary>
    public static bool IsToken(string method)
    {
        if (method.Length == 0)
        {
            return false;
        }
        foreach (char c in method)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                return false;
            }
        }
        return true;
    }
}
