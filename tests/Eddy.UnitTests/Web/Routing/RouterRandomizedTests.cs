using System.Text;
using Eddy.Web.Routing;

namespace Eddy.UnitTests.Web.Routing;

/// <summary>
/// Random route sets and paths (fixed seeds), checked against a brute-force reference: every route is matched
/// against the path on its own, and the winner is the least by (precedence vector, method preference,
/// registration order). The precedence vector has one entry per position: for a consumed segment, literal 0,
/// constrained 1, parameter 2, catch-all 3; where the path ends, exact 0, optional 1, empty catch-all 2.
/// The constraints used (int, alpha) never both accept a value, so equal vectors mean the same place in the tree.
/// </summary>
public sealed class RouterRandomizedTests
{
    private static readonly string[] s_literals = ["a", "b", "C"];
    private static readonly string[] s_routeMethods = ["GET", "POST", "HEAD", "*"];
    private static readonly string[] s_requestMethods = ["GET", "POST", "HEAD", "PUT"];
    private static readonly string[] s_pathSegments = ["a", "B", "c", "1", "42", "x1", ""];

    private sealed record RefSegment(string Kind, string Text, string Constraint, bool Optional);

    private sealed record RefRoute(string Method, string Template, RefSegment[] Segments, int Order);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void MatchAgreesWithABruteForceReference(int seed)
    {
        var random = new Random(seed);
        for (int round = 0; round < 40; round++)
        {
            var router = new Router<RefRoute>();
            var routes = new List<RefRoute>();
            for (int i = 0; i < 25; i++)
            {
                (string template, RefSegment[] segments) = RandomTemplate(random);
                string method = s_routeMethods[random.Next(s_routeMethods.Length)];
                var route = new RefRoute(method, template, segments, routes.Count);
                try
                {
                    router.Add(method, template, route);
                    routes.Add(route);
                }
                catch (ArgumentException e) when (e.Message.Contains("conflicts with"))
                {
                }
            }
            router.Build();

            for (int p = 0; p < 150; p++)
            {
                string path = RandomPath(random);
                string method = s_requestMethods[random.Next(s_requestMethods.Length)];
                CheckAgainstReference(router, routes, method, path);
            }
        }
    }

    private static void CheckAgainstReference(Router<RefRoute> router, List<RefRoute> routes, string method, string path)
    {
        RouteMatch<RefRoute> actual = router.Match(method, path);
        string context = $"{method} {path} with routes:\n  {string.Join("\n  ", routes.Select(r => $"{r.Method} {r.Template}"))}";

        var candidates = new List<(RefRoute Route, int[] Vector, Dictionary<string, string> Values)>();
        foreach (RefRoute route in routes)
        {
            if (TryMatch(route, path, out int[]? vector, out Dictionary<string, string>? values))
            {
                candidates.Add((route, vector, values));
            }
        }
        var accepting = candidates.Where(c => MethodPreference(c.Route.Method, method) >= 0).ToList();
        if (accepting.Count == 0)
        {
            if (candidates.Count == 0)
            {
                Assert.True(actual.Status == RouteMatchStatus.NotFound, context);
                return;
            }
            var allowed = new SortedSet<string>(candidates.Select(c => c.Route.Method), StringComparer.Ordinal);
            if (allowed.Contains("GET"))
            {
                allowed.Add("HEAD");
            }
            Assert.True(actual.Status == RouteMatchStatus.MethodNotAllowed, context);
            Assert.Equal(string.Join(", ", allowed), actual.AllowedMethods);
            return;
        }

        accepting.Sort((x, y) =>
        {
            int byVector = CompareVectors(x.Vector, y.Vector);
            if (byVector != 0)
            {
                return byVector;
            }
            int byMethod = MethodPreference(x.Route.Method, method).CompareTo(MethodPreference(y.Route.Method, method));
            return byMethod != 0 ? byMethod : x.Route.Order.CompareTo(y.Route.Order);
        });
        var expected = accepting[0];
        Assert.True(actual.IsFound, context);
        Assert.True(ReferenceEquals(expected.Route, actual.Endpoint), $"expected {expected.Route.Template}, got {actual.Endpoint!.Template}: {context}");
        Assert.Equal(expected.Values.Count, actual.Values.Count);
        foreach ((string name, string value) in expected.Values)
        {
            Assert.Equal(value, actual.Values.GetString(name));
        }
    }

    /// <summary>0 for the request's own method, 1 for GET serving HEAD, 2 for any method; -1 if the route does not accept it.</summary>
    private static int MethodPreference(string routeMethod, string requestMethod) =>
        routeMethod == requestMethod ? 0
        : routeMethod == "GET" && requestMethod == "HEAD" ? 1
        : routeMethod == "*" ? 2
        : -1;

    private static int CompareVectors(int[] x, int[] y)
    {
        for (int i = 0; i < Math.Min(x.Length, y.Length); i++)
        {
            if (x[i] != y[i])
            {
                return x[i].CompareTo(y[i]);
            }
        }
        Assert.True(x.Length == y.Length, "two routes matching one path cannot have one vector a strict prefix of the other");
        return 0;
    }

    private static bool TryMatch(RefRoute route, string path, out int[] vector, out Dictionary<string, string> values)
    {
        vector = [];
        values = [];
        int end = path.EndsWith('/') ? path.Length - 1 : path.Length;
        string trimmed = path[..end];
        string[] segments = trimmed.Length == 0 ? [] : trimmed[1..].Split('/');

        var ranks = new List<int>();
        RefSegment[] template = route.Segments;
        for (int i = 0; i < template.Length; i++)
        {
            RefSegment t = template[i];
            if (t.Kind == "catchall")
            {
                // The rest of the untrimmed path after the consumed segments and their '/'.
                int consumed = path.StartsWith('/') ? 1 : 0;
                for (int k = 0; k < i; k++)
                {
                    consumed += segments[k].Length + 1;
                }
                string rest = consumed >= path.Length ? "" : path[consumed..];
                ranks.Add(i == segments.Length ? 2 : 3);
                values[t.Text] = rest;
                vector = [.. ranks];
                return true;
            }
            if (i == segments.Length)
            {
                // The path ended: only an omitted optional parameter may follow.
                if (t.Optional && i == template.Length - 1)
                {
                    ranks.Add(1);
                    vector = [.. ranks];
                    return true;
                }
                return false;
            }
            string segment = segments[i];
            if (t.Kind == "literal")
            {
                if (!string.Equals(t.Text, segment, StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
                ranks.Add(0);
            }
            else
            {
                if (segment.Length == 0 || !Accepts(t.Constraint, segment))
                {
                    return false;
                }
                ranks.Add(t.Constraint.Length == 0 ? 2 : 1);
                values[t.Text] = segment;
            }
        }
        if (segments.Length != template.Length)
        {
            return false;
        }
        ranks.Add(template.Length > 0 && template[^1].Optional ? 1 : 0);
        vector = [.. ranks];
        return true;
    }

    private static bool Accepts(string constraint, string value) => constraint switch
    {
        "int" => int.TryParse(value, out _),
        "alpha" => value.All(char.IsAsciiLetter),
        _ => true,
    };

    private static (string Template, RefSegment[] Segments) RandomTemplate(Random random)
    {
        int count = random.Next(0, 5);
        var segments = new List<RefSegment>();
        var text = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            bool last = i == count - 1;
            int kind = random.Next(last ? 7 : 5);
            string name = $"p{i}";
            RefSegment segment = kind switch
            {
                0 or 1 => new RefSegment("literal", s_literals[random.Next(s_literals.Length)], "", false),
                2 => new RefSegment("param", name, "", false),
                3 => new RefSegment("param", name, "int", false),
                4 => new RefSegment("param", name, "alpha", false),
                5 => new RefSegment("param", name, random.Next(2) == 0 ? "" : "int", true),
                _ => new RefSegment("catchall", name, "", false),
            };
            segments.Add(segment);
            text.Append('/').Append(segment.Kind switch
            {
                "literal" => segment.Text,
                "catchall" => $"{{*{name}}}",
                _ => $"{{{name}{(segment.Constraint.Length > 0 ? ":" + segment.Constraint : "")}{(segment.Optional ? "?" : "")}}}",
            });
        }
        if (count == 0 || random.Next(4) == 0)
        {
            text.Append('/');
        }
        return (text.ToString(), [.. segments]);
    }

    private static string RandomPath(Random random)
    {
        int count = random.Next(0, 6);
        var path = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            path.Append('/').Append(s_pathSegments[random.Next(s_pathSegments.Length)]);
        }
        if (count == 0 || random.Next(4) == 0)
        {
            path.Append('/');
        }
        return path.ToString();
    }
}
