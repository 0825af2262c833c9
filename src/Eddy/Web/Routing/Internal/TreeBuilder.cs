namespace Eddy.Web.Routing.Internal;

/// <summary>
/// Builds the frozen route tree from the registered routes, in registration order: a mutable trie of
/// segments first, then <see cref="Freeze"/> turns every node into a <see cref="RouteNode{TEndpoint}"/>
/// with arrays in precedence order.
/// </summary>
internal sealed class TreeBuilder<TEndpoint>
{
    private readonly int _methodCount;
    private readonly Node _root;

    public TreeBuilder(int methodCount)
    {
        _methodCount = methodCount;
        _root = new Node();
    }

    public void Add(Route<TEndpoint> route)
    {
        Node node = _root;
        TemplateSegment[] segments = route.Parsed.Segments;
        for (int i = 0; i < segments.Length; i++)
        {
            TemplateSegment segment = segments[i];
            switch (segment.Kind)
            {
                case SegmentKind.Literal:
                    if (!node.Literals.TryGetValue(segment.Text, out Node? child))
                    {
                        child = new Node();
                        node.Literals.Add(segment.Text, child);
                    }
                    node = child;
                    break;

                case SegmentKind.Parameter:
                    if (segment.IsOptional)
                    {
                        // The value may be omitted: the route also ends before this segment.
                        node.Optional(_methodCount).Add(route);
                    }
                    node = node.Parameter(segment, _methodCount);
                    break;

                case SegmentKind.CatchAll:
                    node.CatchAll(segment, _methodCount).Routes.Add(route);
                    return;
            }
        }

        bool optional = segments.Length > 0 && segments[^1].IsOptional;
        (optional ? node.Optional(_methodCount) : node.Exact(_methodCount)).Add(route);
    }

    public RouteNode<TEndpoint> Freeze() => _root.Freeze();

    /// <summary>
    /// Every chain of literal segments from the root to a node with <see cref="RouteNode{TEndpoint}.Exact"/> routes,
    /// as a whole path ("/users/me", "" for the root) with that table (the same object the frozen tree holds), for the
    /// <see cref="LiteralPathTable{TEndpoint}"/>. Paths it cannot hold are left to the tree walk.
    /// </summary>
    public LiteralPathTable<TEndpoint> LiteralPaths()
    {
        var entries = new List<(string Path, MethodTable<TEndpoint> Routes)>();
        _root.CollectLiteralPaths("", entries);
        return new LiteralPathTable<TEndpoint>(entries);
    }

    private sealed class Node
    {
        public readonly Dictionary<string, Node> Literals = new(AsciiIgnoreCaseComparer.Instance);
        public readonly List<(string Key, RouteConstraint[] Constraints, Node Target)> Parameters = [];
        public readonly List<(string Key, RouteConstraint[] Constraints, MethodTable<TEndpoint> Routes)> CatchAlls = [];
        private MethodTable<TEndpoint>? _exact;
        private MethodTable<TEndpoint>? _optional;

        public MethodTable<TEndpoint> Exact(int count) => _exact ??= new MethodTable<TEndpoint>(count);

        public MethodTable<TEndpoint> Optional(int count) => _optional ??= new MethodTable<TEndpoint>(count);

        public Node Parameter(TemplateSegment segment, int count)
        {
            foreach ((string key, _, Node target) in Parameters)
            {
                if (key == segment.ConstraintKey)
                {
                    return target;
                }
            }
            var node = new Node();
            Parameters.Add((segment.ConstraintKey, segment.Constraints, node));
            return node;
        }

        public (string Key, RouteConstraint[] Constraints, MethodTable<TEndpoint> Routes) CatchAll(TemplateSegment segment, int count)
        {
            foreach (var edge in CatchAlls)
            {
                if (edge.Key == segment.ConstraintKey)
                {
                    return edge;
                }
            }
            var added = (segment.ConstraintKey, segment.Constraints, new MethodTable<TEndpoint>(count));
            CatchAlls.Add(added);
            return added;
        }

        public void CollectLiteralPaths(string path, List<(string Path, MethodTable<TEndpoint> Routes)> entries)
        {
            if (_exact is not null && LiteralPathTable<TEndpoint>.CanHold(path))
            {
                entries.Add((path, _exact));
            }
            foreach ((string segment, Node child) in Literals)
            {
                child.CollectLiteralPaths(path + "/" + segment, entries);
            }
        }

        public RouteNode<TEndpoint> Freeze()
        {
            var node = new RouteNode<TEndpoint> { Exact = _exact, Optional = _optional };
            if (Literals.Count > 0)
            {
                node.Literals = new LiteralTable<TEndpoint>(
                    [.. Literals.Keys],
                    [.. Literals.Values.Select(static child => child.Freeze())]);
            }
            if (Parameters.Count > 0)
            {
                // Constrained before unconstrained; among constrained edges, registration order (stable sort).
                node.Parameters = [.. Parameters
                    .OrderBy(static edge => edge.Key.Length == 0)
                    .Select(static edge => new ParameterEdge<TEndpoint>(edge.Constraints, edge.Target.Freeze()))];
            }
            if (CatchAlls.Count > 0)
            {
                node.CatchAlls = [.. CatchAlls
                    .OrderBy(static edge => edge.Key.Length == 0)
                    .Select(static edge => new CatchAllEdge<TEndpoint>(edge.Constraints, edge.Routes))];
            }
            return node;
        }
    }
}
