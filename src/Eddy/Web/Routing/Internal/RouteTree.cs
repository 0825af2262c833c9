using System.Collections.Concurrent;
using System.Numerics;

namespace Eddy.Web.Routing.Internal;

/// <summary>
/// What <see cref="Router{TEndpoint}"/> matches against once built: the frozen tree and the method list.
/// Immutable apart from the Allow-header cache, which is thread-safe; any thread may match.
/// </summary>
internal sealed class RouteTree<TEndpoint>
{
    /// <summary>Allow header values by method mask; only masks that some 405 produced. Bounded by the route set.</summary>
    private readonly ConcurrentDictionary<ulong, string> _allowHeaders = new();

    public RouteTree(RouteNode<TEndpoint> root, LiteralPathTable<TEndpoint> literalPaths, string[] methodNames)
    {
        Root = root;
        LiteralPaths = literalPaths;
        MethodNames = methodNames;
    }

    public RouteNode<TEndpoint> Root { get; }

    /// <summary>The whole literal paths of <see cref="Root"/>'s tree, for the one-lookup fast path.</summary>
    public LiteralPathTable<TEndpoint> LiteralPaths { get; }

    /// <summary>Index → method token: the known methods, then extension methods in order of first use.</summary>
    public string[] MethodNames { get; }

    /// <summary>The method's index, or -1 when no route names it (then only any-method routes match).</summary>
    public int IndexOf(ReadOnlySpan<char> method)
    {
        int index = RouteMethods.IndexOfKnown(method);
        if (index >= 0)
        {
            return index;
        }
        string[] names = MethodNames;
        for (int i = RouteMethods.KnownCount; i < names.Length; i++)
        {
            if (method.SequenceEqual(names[i]))
            {
                return i;
            }
        }
        return -1;
    }

    public string AllowHeader(ulong mask) =>
        _allowHeaders.GetOrAdd(mask, static (mask, names) => FormatAllow(mask, names), MethodNames);

    private static string FormatAllow(ulong mask, string[] names)
    {
        // HEAD is served by GET routes (RFC 9110 §9.3.2), so it is allowed wherever GET is.
        if ((mask & (1UL << RouteMethods.Get)) != 0)
        {
            mask |= 1UL << RouteMethods.Head;
        }
        var allowed = new List<string>(BitOperations.PopCount(mask));
        for (; mask != 0; mask &= mask - 1)
        {
            allowed.Add(names[BitOperations.TrailingZeroCount(mask)]);
        }
        allowed.Sort(StringComparer.Ordinal);
        return string.Join(", ", allowed);
    }
}
