using System.Text;
using CsCheck;
using Eddy.Http;
using Eddy.Http.Parsing;
using Eddy.Web.Routing;

namespace Eddy.UnitTests.Web.Routing;

/// <summary>
/// <see cref="Router{TEndpoint}.MatchLiteralPath"/>, the one-lookup fast path over raw path bytes: it must answer
/// exactly what <see cref="Router{TEndpoint}.MatchRoute"/> answers for the decoded path, or null — never another route.
/// </summary>
public sealed class RouterLiteralPathTests
{
    private static Router<string> RouterWith(params (string Method, string Template)[] routes) => RouterTests.RouterWith(routes);

    /// <summary>The fast path's answer (the endpoint, or null), checked against the walk over the decoded path on the way.</summary>
    private static string? Fast(Router<string> router, HttpVerb verb, string rawPath, string? extensionMethod = null)
    {
        byte[] raw = Encoding.UTF8.GetBytes(rawPath);
        Route<string>? fast = router.MatchLiteralPath(verb, raw, out RouteValues values);
        if (fast is not null)
        {
            string method = extensionMethod ?? verb.ToString().ToUpperInvariant();
            Assert.Same(router.MatchRoute(method, HttpTarget.DecodePath(raw).AsMemory(), out _), fast);
            Assert.Equal(0, values.Count);
        }
        return fast?.Endpoint;
    }

    private static string? Walk(Router<string> router, string method, string rawPath) =>
        router.MatchRoute(method, HttpTarget.DecodePath(Encoding.UTF8.GetBytes(rawPath)).AsMemory(), out _)?.Endpoint;

    [Fact]
    public void MatchLiteralPathFindsRoutesWhosePathIsAllLiteral()
    {
        Router<string> router = RouterWith(("GET", "/plaintext"), ("GET", "/json"), ("POST", "/users/me"), ("GET", "/users/{id}"));

        Assert.Equal("GET /plaintext", Fast(router, HttpVerb.Get, "/plaintext"));
        Assert.Equal("GET /json", Fast(router, HttpVerb.Get, "/json"));
        Assert.Equal("POST /users/me", Fast(router, HttpVerb.Post, "/users/me"));
    }

    [Fact]
    public void MatchLiteralPathLeavesParameterRoutesToTheWalk()
    {
        Router<string> router = RouterWith(("GET", "/users/{id}"), ("GET", "/files/{*path}"), ("GET", "/users"));

        Assert.Null(Fast(router, HttpVerb.Get, "/users/42"));
        Assert.Null(Fast(router, HttpVerb.Get, "/files/a/b"));
        Assert.Equal("GET /users", Fast(router, HttpVerb.Get, "/users"));
    }

    [Fact]
    public void MatchLiteralPathIgnoresOneTrailingSlashAsTheWalkDoes()
    {
        Router<string> router = RouterWith(("GET", "/plaintext"), ("GET", "/a/b/"));

        Assert.Equal("GET /plaintext", Fast(router, HttpVerb.Get, "/plaintext/"));
        Assert.Equal("GET /a/b/", Fast(router, HttpVerb.Get, "/a/b"));
        Assert.Equal("GET /a/b/", Fast(router, HttpVerb.Get, "/a/b/"));
        // Two trailing slashes leave an empty segment: no literal route matches it.
        Assert.Null(Fast(router, HttpVerb.Get, "/plaintext//"));
        Assert.Null(Walk(router, "GET", "/plaintext//"));
    }

    [Fact]
    public void MatchLiteralPathFindsTheRootForSlashAndEmptyButNotDoubleSlash()
    {
        Router<string> router = RouterWith(("GET", "/"), ("GET", "/{*rest}"));

        Assert.Equal("GET /", Fast(router, HttpVerb.Get, "/"));
        Assert.Equal("GET /", Fast(router, HttpVerb.Get, ""));
        // "//" trimmed is "/": one empty segment, which only the catch-all takes.
        Assert.Null(Fast(router, HttpVerb.Get, "//"));
        Assert.Equal("GET /{*rest}", Walk(router, "GET", "//"));
    }

    [Fact]
    public void MatchLiteralPathComparesLettersCaseInsensitivelyAndEverythingElseExactly()
    {
        Router<string> router = RouterWith(("GET", "/PlainText"), ("GET", "/a_b"), ("GET", "/a@b"), ("GET", "/x-1"));

        Assert.Equal("GET /PlainText", Fast(router, HttpVerb.Get, "/plaintext"));
        Assert.Equal("GET /PlainText", Fast(router, HttpVerb.Get, "/PLAINTEXT"));
        Assert.Equal("GET /a_b", Fast(router, HttpVerb.Get, "/A_B"));
        // '_' | 0x20 is DEL and '@' | 0x20 is '`': the hash folds them alike, the comparison must not.
        Assert.Null(Fast(router, HttpVerb.Get, "/a\u007Fb"));
        Assert.Null(Fast(router, HttpVerb.Get, "/a`b"));
        Assert.Null(Fast(router, HttpVerb.Get, "/x\r1"));
        Assert.Equal("GET /a@b", Fast(router, HttpVerb.Get, "/A@B"));
    }

    [Fact]
    public void MatchLiteralPathComparesEveryByteOfPathsOfEveryLength()
    {
        // Lengths around the 4- and 8-byte words the table compares: one changed byte anywhere must miss.
        string[] templates = ["/a", "/ab", "/abc", "/abcdef", "/abcdefg", "/abcdefgh", "/abcdefghijklmno", "/abcdefghijklmnop", "/a1-b2_c3.d4~e5"];
        Router<string> router = RouterWith([.. templates.Select(template => ("GET", template))]);

        foreach (string template in templates)
        {
            Assert.Equal($"GET {template}", Fast(router, HttpVerb.Get, template));
            Assert.Equal($"GET {template}", Fast(router, HttpVerb.Get, template.ToUpperInvariant()));
            for (int i = 0; i < template.Length; i++)
            {
                char changed = template[i] == 'z' ? 'y' : (char)(template[i] + 1);
                Assert.Null(Fast(router, HttpVerb.Get, template[..i] + changed + template[(i + 1)..]));
                // Bit 0x20 flipped is the other case of a letter and a different character otherwise; bit 0x80, never ASCII.
                byte[] raw = Encoding.ASCII.GetBytes(template);
                raw[i] ^= 0x20;
                Assert.Equal(char.IsAsciiLetter(template[i]), router.MatchLiteralPath(HttpVerb.Get, raw, out _) is not null);
                raw[i] ^= 0x20 | 0x80;
                Assert.Null(router.MatchLiteralPath(HttpVerb.Get, raw, out _));
            }
        }
    }

    [Fact]
    public void MatchLiteralPathLeavesPercentEncodedPathsToTheWalk()
    {
        Router<string> router = RouterWith(("GET", "/plaintext"), ("GET", "/a/b"));

        Assert.Null(Fast(router, HttpVerb.Get, "/plain%74ext"));
        Assert.Equal("GET /plaintext", Walk(router, "GET", "/plain%74ext"));
        Assert.Null(Fast(router, HttpVerb.Get, "/a%2Fb"));
        Assert.Equal("GET /a/b", Walk(router, "GET", "/a%2Fb"));
    }

    [Fact]
    public void MatchLiteralPathHoldsNoTemplateWithAPercentSignOrNonAsciiText()
    {
        Router<string> router = RouterWith(("GET", "/100%"), ("GET", "/café"));

        Assert.Null(Fast(router, HttpVerb.Get, "/100%25"));
        Assert.Null(Fast(router, HttpVerb.Get, "/100%"));
        Assert.Equal("GET /100%", Walk(router, "GET", "/100%25"));
        Assert.Null(Fast(router, HttpVerb.Get, "/caf%C3%A9"));
        Assert.Null(Fast(router, HttpVerb.Get, "/café"));
        Assert.Equal("GET /café", Walk(router, "GET", "/caf%C3%A9"));
    }

    [Fact]
    public void MatchLiteralPathLeavesPathsWithoutTheLeadingSlashOrWithDoubleSlashesToTheWalk()
    {
        Router<string> router = RouterWith(("GET", "/plaintext"), ("GET", "/a/b"));

        Assert.Null(Fast(router, HttpVerb.Get, "plaintext"));
        Assert.Equal("GET /plaintext", Walk(router, "GET", "plaintext"));
        Assert.Null(Fast(router, HttpVerb.Get, "//plaintext"));
        Assert.Null(Fast(router, HttpVerb.Get, "/a//b"));
        Assert.Null(Walk(router, "GET", "/a//b"));
    }

    [Fact]
    public void MatchLiteralPathLeavesExtensionMethodsToTheWalk()
    {
        Router<string> router = RouterWith(("PURGE", "/cache"), ("*", "/any"));

        Assert.Null(Fast(router, HttpVerb.Extension, "/cache", "PURGE"));
        Assert.Null(Fast(router, HttpVerb.Extension, "/any", "BREW"));
        Assert.Equal("PURGE /cache", Walk(router, "PURGE", "/cache"));
        Assert.Equal("* /any", Walk(router, "BREW", "/any"));
    }

    [Fact]
    public void MatchLiteralPathServesHeadWithTheHeadRouteElseTheGetRouteElseTheAnyMethodRoute()
    {
        Router<string> router = RouterWith(("GET", "/a"), ("HEAD", "/a"), ("GET", "/b"), ("*", "/b"), ("*", "/c"));

        Assert.Equal("HEAD /a", Fast(router, HttpVerb.Head, "/a"));
        Assert.Equal("GET /b", Fast(router, HttpVerb.Head, "/b"));
        Assert.Equal("* /b", Fast(router, HttpVerb.Post, "/b"));
        Assert.Equal("* /c", Fast(router, HttpVerb.Head, "/c"));
    }

    [Fact]
    public void MatchLiteralPathAnswersNullWhereTheWalkGoesOnToALowerPrecedenceRouteForTheMethod()
    {
        Router<string> router = RouterWith(("GET", "/a"), ("POST", "/{x}"), ("GET", "/b"), ("PUT", "/b/{opt?}"));

        Assert.Null(Fast(router, HttpVerb.Post, "/a"));
        Assert.Equal("POST /{x}", Walk(router, "POST", "/a"));
        Assert.Null(Fast(router, HttpVerb.Put, "/b"));
        Assert.Equal("PUT /b/{opt?}", Walk(router, "PUT", "/b"));
        Assert.Null(Fast(router, HttpVerb.Delete, "/a"));
    }

    [Fact]
    public void MatchLiteralPathMapsEveryKnownVerbToItsMethod()
    {
        HttpVerb[] verbs = [.. Enum.GetValues<HttpVerb>().Where(verb => verb != HttpVerb.Extension)];
        Router<string> router = RouterWith([.. verbs.Select(verb => (verb.ToString().ToUpperInvariant(), "/m"))]);

        foreach (HttpVerb verb in verbs)
        {
            Assert.Equal($"{verb.ToString().ToUpperInvariant()} /m", Fast(router, verb, "/m"));
        }
    }

    [Fact]
    public void MatchLiteralPathFindsEveryPathAmongManyThatShareLengthAndEnds()
    {
        // Same length, same first and last eight bytes: the hash cannot tell them apart, the chain must.
        string[] templates = [.. Enumerable.Range(0, 26).Select(i => $"/api/v1/{(char)('a' + i)}/items")];
        Router<string> router = RouterWith([.. templates.Select(template => ("GET", template))]);

        foreach (string template in templates)
        {
            Assert.Equal($"GET {template}", Fast(router, HttpVerb.Get, template.ToUpperInvariant()));
        }
        Assert.Null(Fast(router, HttpVerb.Get, "/api/v1/_/items"));
    }

    [Fact]
    public void MatchLiteralPathBuildsTheRouterOnFirstUse()
    {
        var router = new Router<string>();
        router.Add("GET", "/plaintext", "p");

        Assert.Equal("p", router.MatchLiteralPath(HttpVerb.Get, "/plaintext"u8, out _)?.Endpoint);
        Assert.True(router.IsBuilt);
    }

    // ---- property: random route sets and request paths made from the templates' own words ----

    private static readonly string[] s_words = ["plaintext", "json", "users", "Me", "a", "B", "café", "100%", "a%42", "x_y"];
    private static readonly string[] s_values = ["42", "abc", "7x", "Json"];

    /// <summary>Placeholders: NAME becomes the parameter's name; optional and catch-all ones are kept for the last segment.</summary>
    private static readonly Gen<string> s_genSegment = Gen.Frequency(
        (8, Gen.OneOf(s_words)),
        (3, Gen.OneOf("{NAME}", "{NAME:int}", "{NAME:alpha}")),
        (2, Gen.OneOf("{NAME?}", "{NAME:int?}", "{*NAME}")));

    private static readonly Gen<string> s_genTemplate =
        from segments in s_genSegment.Array[0, 3]
        from trailingSlash in Gen.Bool
        select "/" + string.Join('/', segments.Select((segment, i) =>
            (i == segments.Length - 1 ? segment : segment.Replace("?", "").Replace("*", "")).Replace("NAME", $"p{i}")))
            + (trailingSlash && segments.Length > 0 ? "/" : "");

    private static readonly Gen<(string Method, string Template)> s_genRoute = Gen.Select(
        Gen.OneOf("GET", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "*", "PURGE"), s_genTemplate);

    public sealed record Request(HttpVerb Verb, string Method, string RawPath)
    {
        public override string ToString() => $"{Verb} ({Method}) '{RawPath}'";
    }

    /// <summary>Half the time the method of the route the path is made from (so that many requests find it), else any.</summary>
    private static Gen<Request> GenRequest((string Method, string Template)[] routes) =>
        from route in Gen.Int[0, routes.Length - 1]
        from values in Gen.OneOf(s_values).Array[4]
        from mutation in Gen.Int[0, 13]
        from position in Gen.Int[0, 1000]
        from routesMethod in Gen.Bool
        from randomVerb in Gen.Enum<HttpVerb>()
        from extension in Gen.OneOf("PURGE", "BREW")
        let method = routesMethod && routes[route].Method != "*" ? routes[route].Method
            : randomVerb == HttpVerb.Extension ? extension : randomVerb.ToString().ToUpperInvariant()
        select new Request(Enum.TryParse(method, ignoreCase: true, out HttpVerb verb) ? verb : HttpVerb.Extension, method,
            Mutate(PathFor(routes[route].Template, values), mutation, position));

    /// <summary>A path the template matches: its words, and for parameters the given values (an optional omitted for "7x").</summary>
    private static string PathFor(string template, string[] values)
    {
        var path = new StringBuilder();
        string[] segments = template.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < segments.Length; i++)
        {
            string segment = segments[i];
            string value = values[i];
            if (!segment.StartsWith('{'))
            {
                path.Append('/').Append(segment);
            }
            else if (segment.StartsWith("{*"))
            {
                path.Append(value == "42" ? "/" : "/x/" + value);
            }
            else if (!(segment.EndsWith("?}") && value == "7x"))
            {
                path.Append('/').Append(value);
            }
        }
        return path.Length == 0 ? "/" : path.ToString();
    }

    /// <summary>Mutation 0 and those past 8 leave the path as built.</summary>
    private static string Mutate(string path, int mutation, int position)
    {
        int at = position % path.Length;
        switch (mutation)
        {
            case 1:
                int letter = path.AsSpan(at).IndexOfAnyInRange('A', 'z');
                return letter < 0 || !char.IsAsciiLetter(path[at + letter])
                    ? path
                    : path[..(at + letter)] + (char)(path[at + letter] ^ 0x20) + path[(at + letter + 1)..];
            case 2:
                return path + "/";
            case 3:
                int slash = path.AsSpan(0, at + 1).LastIndexOf('/');
                return slash < 0 ? "/" + path : path.Insert(slash, "/");
            case 4:
                return path[at] == '/' ? path : path[..at] + Escape(path[at]) + path[(at + 1)..];
            case 5:
                return path.TrimEnd('/') + "/" + s_words[position % s_words.Length];
            case 6:
                return path.TrimStart('/');
            case 7:
                // How a client sends the non-ASCII and '%' characters: escaped.
                return string.Concat(path.Select(c => c > 0x7F || c == '%' ? Escape(c) : c.ToString()));
            case 8:
                return path.ToUpperInvariant();
            default:
                return path;
        }
    }

    private static string Escape(char c) => string.Concat(Encoding.UTF8.GetBytes([c]).Select(b => $"%{b:X2}"));

    [Fact]
    public void MatchLiteralPathAnswersWhatMatchRouteAnswersOrNullForRandomRoutesAndPaths()
    {
        int requests = 0, hits = 0;
        s_genRoute.Array[1, 10]
            .SelectMany(routes => GenRequest(routes).Array[1, 12].Select(requests => (Routes: routes, Requests: requests)))
            .Sample(sample =>
            {
                var router = new Router<string>();
                foreach ((string method, string template) in sample.Routes)
                {
                    try
                    {
                        router.Add(method, template, $"{method} {template}");
                    }
                    catch (ArgumentException e) when (e.Message.Contains("conflicts with"))
                    {
                    }
                }
                foreach (Request request in sample.Requests)
                {
                    byte[] raw = Encoding.UTF8.GetBytes(request.RawPath);
                    Route<string>? walked = router.MatchRoute(request.Method, HttpTarget.DecodePath(raw).AsMemory(), out _);
                    Route<string>? fast = router.MatchLiteralPath(request.Verb, raw, out RouteValues values);
                    requests++;
                    if (fast is not null)
                    {
                        hits++;
                        Assert.Same(walked, fast);
                        Assert.Equal(0, values.Count);
                    }
                    // Whenever the walk finds an all-literal route for a known method and a raw path sent as is
                    // (ASCII, no escapes, from the leading '/'), the fast path must find it too.
                    bool plain = request.Verb != HttpVerb.Extension && Ascii.IsValid(raw) && !request.RawPath.Contains('%')
                        && (request.RawPath.Length == 0 || request.RawPath[0] == '/');
                    if (plain && walked is { ParameterNames.Count: 0 })
                    {
                        Assert.Same(walked, fast);
                    }
                }
            }, iter: 10_000, threads: 1);

        // The generator must exercise hits, or the property above would hold for a fast path that never answers.
        Assert.True(hits > requests / 10, $"{hits} hits in {requests} requests");
    }
}
