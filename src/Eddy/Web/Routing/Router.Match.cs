using System.Runtime.CompilerServices;
using Eddy.Http.Parsing;
using Eddy.Web.Routing.Internal;

namespace Eddy.Web.Routing;

// The hot path: matching a request against the frozen tree. No allocation: the path is walked as spans,
// literal children are found with an allocation-free hash, and captures go to an inline buffer.
public sealed partial class Router<TEndpoint>
{
    /// <summary>Matches a request. <paramref name="path"/> is the decoded path without the query.</summary>
    public RouteMatch<TEndpoint> Match(ReadOnlySpan<char> method, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Match(method, path.AsMemory());
    }

    /// <summary>
    /// Matches a request. <paramref name="path"/> is the decoded path without the query; route values are
    /// slices of it, valid as long as its memory is. Builds the tree first if <see cref="Build"/> was not called.
    /// </summary>
    public RouteMatch<TEndpoint> Match(ReadOnlySpan<char> method, ReadOnlyMemory<char> path) =>
        MatchRoute(method, path, out RouteValues values) is { } route
            ? RouteMatch<TEndpoint>.Found(route, values)
            : NotMatched(path.Span);

    /// <summary>
    /// The server's hot path: the matched route (null when none: <see cref="NotMatched"/> then tells 404 from
    /// 405 and gives the Allow header), its values written straight into <paramref name="values"/>, so the
    /// caller can keep them in place instead of copying a <see cref="RouteMatch{TEndpoint}"/>.
    /// </summary>
    public Route<TEndpoint>? MatchRoute(ReadOnlySpan<char> method, ReadOnlyMemory<char> path, out RouteValues values)
    {
        RouteTree<TEndpoint> tree = _tree ?? BuildTree();
        var state = new MatchState(path.Span, tree.IndexOf(method), collect: false);
        if (Visit(tree.Root, 0, ref state))
        {
            values = new RouteValues(path, state.Found!.Names, in state.Captures, state.Count);
            return state.Found;
        }
        values = default;
        return null;
    }

    /// <summary>
    /// The fast path for paths made of literal segments only (<c>/plaintext</c>): one hash lookup of the request's
    /// raw path, no decoding, no widening to chars, no segment walk. <paramref name="rawPath"/> is the target's path
    /// as received (origin-form up to '?', not percent-decoded: <see cref="HttpTarget.PathBytes"/>). Returns exactly
    /// the route <see cref="MatchRoute"/> would return for the decoded path, with empty <paramref name="values"/>,
    /// or null when it cannot tell (another kind of route, an escaped or unusual path, an extension method, or no
    /// route for this method there): then call <see cref="MatchRoute"/>.
    /// </summary>
    /// <remarks>
    /// Why a hit is what the walk finds: the table holds a path P = "/s1/…/sn" only if literal nodes s1…sn lead
    /// from the root to a node with Exact routes, and only if P is ASCII without '%', so a raw path equal to P
    /// (letters in any case, one trailing '/' dropped as <see cref="MatchState.End"/> drops it) decodes to itself.
    /// The walk over that decoded path tries, at each node, the literal child for the next segment before any
    /// parameter, catch-all or optional route, and at the node where the path ends, the Exact routes first; so its
    /// first candidate is this very chain, and <see cref="MethodTable{TEndpoint}.Find"/> (HEAD → GET, then any
    /// method) is the same call on the same table. When Find answers null the walk would go on to lower-precedence
    /// routes, so the fast path answers null too and leaves that to it. What misses: "/plain%74ext" (the key has no
    /// '%'; the walk decodes it), "//x" and "/x//" (trimmed, they keep an empty segment no key has), a path without
    /// its leading '/' (keys start with one; the root's key is empty, as "/" and "" trimmed are).
    /// </remarks>
    public Route<TEndpoint>? MatchLiteralPath(HttpVerb verb, ReadOnlySpan<byte> rawPath, out RouteValues values)
    {
        values = default;
        RouteTree<TEndpoint> tree = _tree ?? BuildTree();
        int method = RouteMethods.IndexOfKnown(verb);
        if (method < 0)
        {
            return null;
        }
        if (rawPath.Length > 0 && rawPath[^1] == '/')
        {
            rawPath = rawPath[..^1];
        }
        return tree.LiteralPaths.Find(rawPath)?.Find(method);
    }

    /// <summary>For a path <see cref="MatchRoute"/> found no route for: 405 with the methods that would match, else 404.</summary>
    public RouteMatch<TEndpoint> NotMatched(ReadOnlySpan<char> path) => NoMatch(_tree ?? BuildTree(), path);

    /// <summary>
    /// The slow path: a second walk that visits every route matching the path, under any method, and
    /// collects their methods for the Allow header. Nothing matched: 404.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static RouteMatch<TEndpoint> NoMatch(RouteTree<TEndpoint> tree, ReadOnlySpan<char> path)
    {
        var state = new MatchState(path, -1, collect: true);
        Visit(tree.Root, 0, ref state);
        return state.Allowed == 0 ? default : RouteMatch<TEndpoint>.NotAllowed(tree.AllowHeader(state.Allowed));
    }

    /// <summary>
    /// Depth-first, in precedence order. <paramref name="position"/> is where the consumed part of the path
    /// ends: at a '/' before the next segment, or at <see cref="MatchState.End"/>. Recursion is bounded by the
    /// depth of the tree (the longest template), not by the path.
    /// </summary>
    private static bool Visit(RouteNode<TEndpoint> node, int position, ref MatchState state)
    {
        ReadOnlySpan<char> path = state.Path;
        if (position >= state.End)
        {
            if (node.Exact is { } exact && state.TryTake(exact))
            {
                return true;
            }
            if (node.Optional is { } optional && state.TryTake(optional))
            {
                return true;
            }
        }
        else
        {
            // The root may see a path without its leading '/'; every later position is at a '/'.
            int start = path[position] == '/' ? position + 1 : position;
            int length = path[start..state.End].IndexOf('/');
            if (length < 0)
            {
                length = state.End - start;
            }
            ReadOnlySpan<char> segment = path.Slice(start, length);

            if (node.Literals?.Find(segment) is { } literal && Visit(literal, start + length, ref state))
            {
                return true;
            }
            if (length != 0)
            {
                foreach (ref readonly ParameterEdge<TEndpoint> edge in node.Parameters.AsSpan())
                {
                    if (RouteConstraint.AcceptsAll(edge.Constraints, segment))
                    {
                        state.Captures[state.Count++] = new Capture(start, length);
                        if (Visit(edge.Target, start + length, ref state))
                        {
                            return true;
                        }
                        state.Count--;
                    }
                }
            }
        }

        if (node.CatchAlls.Length != 0)
        {
            // The rest of the path as sent (the trailing '/' included), without the '/' that starts it.
            int start = position < path.Length && path[position] == '/' ? position + 1 : position;
            ReadOnlySpan<char> rest = path[start..];
            foreach (ref readonly CatchAllEdge<TEndpoint> edge in node.CatchAlls.AsSpan())
            {
                if (RouteConstraint.AcceptsAll(edge.Constraints, rest))
                {
                    state.Captures[state.Count] = new Capture(start, rest.Length);
                    if (state.TryTake(edge.Routes))
                    {
                        state.Count++;
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private ref struct MatchState
    {
        /// <summary>The whole path, trailing '/' included (catch-alls see it).</summary>
        public readonly ReadOnlySpan<char> Path;

        /// <summary>The path's length without one trailing '/': where segments end.</summary>
        public readonly int End;

        public readonly int Method;

        /// <summary>The 405 walk: record every method that matches, never stop.</summary>
        public readonly bool Collect;

        public ulong Allowed;
        public Route<TEndpoint>? Found;
        public CaptureBuffer Captures;
        public int Count;

        public MatchState(ReadOnlySpan<char> path, int method, bool collect)
        {
            Path = path;
            End = path.Length > 0 && path[^1] == '/' ? path.Length - 1 : path.Length;
            Method = method;
            Collect = collect;
        }

        public bool TryTake(MethodTable<TEndpoint> routes)
        {
            if (Collect)
            {
                Allowed |= routes.Mask;
                return false;
            }
            Found = routes.Find(Method);
            return Found is not null;
        }
    }
}
