using Eddy.Web.Routing;

namespace Eddy.UnitTests.Web.Routing;

public sealed class RouterTests
{
    /// <summary>A built router whose endpoints are "METHOD template" (shared with the other router tests).</summary>
    internal static Router<string> RouterWith(params (string Method, string Template)[] routes)
    {
        var router = new Router<string>();
        foreach ((string method, string template) in routes)
        {
            router.Add(method, template, $"{method} {template}");
        }
        router.Build();
        return router;
    }

    private static string? Winner(Router<string> router, string method, string path)
    {
        RouteMatch<string> match = router.Match(method, path);
        return match.IsFound ? match.Endpoint : null;
    }

    [Fact]
    public void MatchFindsAStaticRoute()
    {
        Router<string> router = RouterWith(("GET", "/plaintext"), ("GET", "/json"));

        RouteMatch<string> match = router.Match("GET", "/plaintext");

        Assert.Equal(RouteMatchStatus.Found, match.Status);
        Assert.True(match.IsFound);
        Assert.Equal(200, match.StatusCode);
        Assert.Equal("GET /plaintext", match.Endpoint);
        Assert.Equal("/plaintext", match.Route.Template);
        Assert.Equal(0, match.Values.Count);
        Assert.Null(match.AllowedMethods);
    }

    [Fact]
    public void MatchFindsTheRootRoute()
    {
        Router<string> router = RouterWith(("GET", "/"), ("GET", "/a"));

        Assert.Equal("GET /", Winner(router, "GET", "/"));
        Assert.Equal("GET /", Winner(router, "GET", ""));
        Assert.Equal("GET /a", Winner(router, "GET", "/a"));
    }

    [Fact]
    public void MatchCapturesParametersAsSlicesOfThePath()
    {
        Router<string> router = RouterWith(("GET", "/users/{userId}/posts/{postId:int}"));

        RouteMatch<string> match = router.Match("GET", "/users/ann/posts/7");

        Assert.True(match.IsFound);
        Assert.Equal(2, match.Values.Count);
        Assert.Equal("ann", match.Values.GetString("userId"));
        Assert.True(match.Values.TryGetInt("postId", out int postId));
        Assert.Equal(7, postId);
    }

    [Fact]
    public void MatchReturnsNotFoundWhenNoRouteMatchesThePath()
    {
        Router<string> router = RouterWith(("GET", "/users/{id:int}"), ("POST", "/users"));

        RouteMatch<string> match = router.Match("GET", "/users/abc");

        Assert.Equal(RouteMatchStatus.NotFound, match.Status);
        Assert.False(match.IsFound);
        Assert.Equal(404, match.StatusCode);
        Assert.Null(match.Route);
        Assert.Null(match.Endpoint);
        Assert.Null(match.AllowedMethods);
        Assert.Equal(0, match.Values.Count);
    }

    [Theory]
    [InlineData("/nope")]
    [InlineData("/users/1/extra")]
    [InlineData("/user")]
    [InlineData("/usersx")]
    [InlineData("/users//1")]
    [InlineData("//users/1")]
    public void MatchReturnsNotFoundForPathsNearARoute(string path)
    {
        Router<string> router = RouterWith(("GET", "/users/{id}"), ("GET", "/users"));

        Assert.Equal(RouteMatchStatus.NotFound, router.Match("GET", path).Status);
    }

    [Fact]
    public void MatchPrefersALiteralThenAConstrainedParameterThenAParameter()
    {
        Router<string> router = RouterWith(("GET", "/users/{name}"), ("GET", "/users/{id:int}"), ("GET", "/users/new"));

        Assert.Equal("GET /users/new", Winner(router, "GET", "/users/new"));
        Assert.Equal("GET /users/{id:int}", Winner(router, "GET", "/users/42"));
        Assert.Equal("GET /users/{name}", Winner(router, "GET", "/users/bob"));
        Assert.Equal("GET /users/{name}", Winner(router, "GET", "/users/99999999999"));
    }

    [Fact]
    public void MatchBacktracksFromALiteralThatLeadsNowhere()
    {
        Router<string> router = RouterWith(("GET", "/users/new/edit"), ("GET", "/users/{id}/delete"));

        Assert.Equal("GET /users/{id}/delete", Winner(router, "GET", "/users/new/delete"));
        Assert.Equal("GET /users/new/edit", Winner(router, "GET", "/users/new/edit"));
    }

    [Fact]
    public void MatchBacktracksFromAConstrainedParameterToAnUnconstrainedOne()
    {
        Router<string> router = RouterWith(("GET", "/users/{id:int}/posts"), ("GET", "/users/{name}/followers"));

        Assert.Equal("GET /users/{name}/followers", Winner(router, "GET", "/users/42/followers"));
        Assert.Equal("GET /users/{id:int}/posts", Winner(router, "GET", "/users/42/posts"));
        Assert.Null(Winner(router, "GET", "/users/bob/posts"));
    }

    [Fact]
    public void MatchBacktracksSeveralLevels()
    {
        Router<string> router = RouterWith(
            ("GET", "/a/b/c/d"),
            ("GET", "/a/{x}/c/e"),
            ("GET", "/a/{x:int}/{y}/f"),
            ("GET", "/{*rest}"));

        Assert.Equal("GET /a/b/c/d", Winner(router, "GET", "/a/b/c/d"));
        Assert.Equal("GET /a/{x}/c/e", Winner(router, "GET", "/a/b/c/e"));
        Assert.Equal("GET /a/{x:int}/{y}/f", Winner(router, "GET", "/a/1/c/f"));
        Assert.Equal("GET /{*rest}", Winner(router, "GET", "/a/b/c/f"));

        RouteMatch<string> match = router.Match("GET", "/a/1/c/f");
        Assert.Equal("1", match.Values.GetString("x"));
        Assert.Equal("c", match.Values.GetString("y"));
        Assert.False(match.Values.Contains("rest"));
    }

    [Fact]
    public void MatchTriesConstrainedParametersInRegistrationOrder()
    {
        Router<string> router = RouterWith(("GET", "/n/{a:range(1,9)}"), ("GET", "/n/{b:int}"), ("GET", "/n/{c:alpha}"));

        Assert.Equal("GET /n/{a:range(1,9)}", Winner(router, "GET", "/n/5"));
        Assert.Equal("GET /n/{b:int}", Winner(router, "GET", "/n/50"));
        Assert.Equal("GET /n/{c:alpha}", Winner(router, "GET", "/n/abc"));
        Assert.Null(Winner(router, "GET", "/n/a1"));
    }

    [Fact]
    public void MatchSharesAnEdgeBetweenParametersWithTheSameConstraintsButKeepsEachRoutesNames()
    {
        Router<string> router = RouterWith(("GET", "/u/{id:int}"), ("GET", "/u/{userId:int}/posts"), ("POST", "/u/{key:int}"));

        Assert.Equal("1", router.Match("GET", "/u/1").Values.GetString("id"));
        Assert.Equal("2", router.Match("GET", "/u/2/posts").Values.GetString("userId"));
        RouteMatch<string> post = router.Match("POST", "/u/3");
        Assert.Equal("3", post.Values.GetString("key"));
        Assert.False(post.Values.Contains("id"));
    }

    [Fact]
    public void MatchComparesLiteralsIgnoringAsciiCase()
    {
        Router<string> router = RouterWith(("GET", "/Users/New"), ("GET", "/café"));

        Assert.Equal("GET /Users/New", Winner(router, "GET", "/users/new"));
        Assert.Equal("GET /Users/New", Winner(router, "GET", "/USERS/NEW"));
        Assert.Equal("GET /Users/New", Winner(router, "GET", "/uSeRs/nEw"));
        Assert.Equal("GET /café", Winner(router, "GET", "/CAFé"));
        Assert.Null(Winner(router, "GET", "/CAFÉ"));
        Assert.Null(Winner(router, "GET", "/users/new0"));
    }

    [Fact]
    public void MatchComparesManyLiteralChildrenIgnoringAsciiCase()
    {
        // More than a handful of siblings: the hash-table lookup, not the scan.
        var router = new Router<string>();
        for (int i = 0; i < 40; i++)
        {
            router.Add("GET", $"/Item{i}/Detail", $"item{i}");
        }

        for (int i = 0; i < 40; i++)
        {
            Assert.Equal($"item{i}", router.Match("GET", $"/ITEM{i}/detail").Endpoint);
        }
        Assert.False(router.Match("GET", "/item40/detail").IsFound);
        Assert.False(router.Match("GET", "/item1").IsFound);
    }

    [Fact]
    public void MatchKeepsParameterValuesAsSent()
    {
        Router<string> router = RouterWith(("GET", "/users/{name}"));

        Assert.Equal("BoB", router.Match("GET", "/USERS/BoB").Values.GetString("name"));
    }

    [Theory]
    [InlineData("/users", "GET /users")]
    [InlineData("/users/", "GET /users")]
    [InlineData("/users/42", "GET /users/{id}")]
    [InlineData("/users/42/", "GET /users/{id}")]
    [InlineData("users/42", "GET /users/{id}")]
    [InlineData("/", "GET /")]
    public void MatchIgnoresOneTrailingSlashAndTheLeadingSlash(string path, string expected)
    {
        Router<string> router = RouterWith(("GET", "/"), ("GET", "/users"), ("GET", "/users/{id}"));

        Assert.Equal(expected, Winner(router, "GET", path));
    }

    [Fact]
    public void MatchDoesNotIgnoreTwoTrailingSlashes()
    {
        Router<string> router = RouterWith(("GET", "/users"), ("GET", "/users/{id}"));

        Assert.Null(Winner(router, "GET", "/users//"));
    }

    [Fact]
    public void MatchTreatsATemplateWithATrailingSlashLikeOneWithout()
    {
        Router<string> router = RouterWith(("GET", "/users/"));

        Assert.Equal("GET /users/", Winner(router, "GET", "/users"));
        Assert.Equal("GET /users/", Winner(router, "GET", "/users/"));
    }

    [Fact]
    public void MatchTakesAnOptionalParameterPresentOrOmitted()
    {
        Router<string> router = RouterWith(("GET", "/posts/{page:int?}"));

        RouteMatch<string> omitted = router.Match("GET", "/posts");
        RouteMatch<string> present = router.Match("GET", "/posts/3");

        Assert.True(omitted.IsFound);
        Assert.Equal(0, omitted.Values.Count);
        Assert.False(omitted.Values.TryGetInt("page", out _));
        Assert.Null(omitted.Values.GetString("page"));
        Assert.True(present.IsFound);
        Assert.True(present.Values.TryGetInt("page", out int page));
        Assert.Equal(3, page);
        Assert.Equal(RouteMatchStatus.NotFound, router.Match("GET", "/posts/x").Status);
        Assert.True(router.Match("GET", "/posts/").IsFound);
    }

    [Fact]
    public void MatchPrefersAnExactRouteToAnOmittedOptionalParameter()
    {
        Router<string> router = RouterWith(("GET", "/posts/{page?}"), ("GET", "/posts"));

        Assert.Equal("GET /posts", Winner(router, "GET", "/posts"));
        Assert.Equal("GET /posts/{page?}", Winner(router, "GET", "/posts/2"));
    }

    [Fact]
    public void MatchPrefersAPlainParameterToAnOptionalOneWithTheSameConstraints()
    {
        Router<string> router = RouterWith(("GET", "/posts/{page?}"), ("GET", "/posts/{slug}"));

        Assert.Equal("GET /posts/{slug}", Winner(router, "GET", "/posts/hello"));
        Assert.Equal("GET /posts/{page?}", Winner(router, "GET", "/posts"));
    }

    [Fact]
    public void MatchTakesAnOptionalParameterAtTheRoot()
    {
        Router<string> router = RouterWith(("GET", "/{name?}"));

        Assert.Equal(0, router.Match("GET", "/").Values.Count);
        Assert.Equal("ann", router.Match("GET", "/ann").Values.GetString("name"));
        Assert.False(router.Match("GET", "/ann/bob").IsFound);
    }

    [Theory]
    [InlineData("/files", "")]
    [InlineData("/files/", "")]
    [InlineData("/files/a", "a")]
    [InlineData("/files/a.txt", "a.txt")]
    [InlineData("/files/a/b/c.txt", "a/b/c.txt")]
    [InlineData("/files/a/b/", "a/b/")]
    [InlineData("/files/a//b", "a//b")]
    [InlineData("/files//", "/")]
    [InlineData("/FILES/Docs/X", "Docs/X")]
    public void MatchGivesACatchAllTheRestOfThePathPossiblyEmpty(string path, string expected)
    {
        Router<string> router = RouterWith(("GET", "/files/{*path}"));

        RouteMatch<string> match = router.Match("GET", path);

        Assert.True(match.IsFound);
        Assert.True(match.Values.TryGetSpan("path", out ReadOnlySpan<char> value));
        Assert.Equal(expected, value.ToString());
        Assert.Equal(1, match.Values.Count);
    }

    [Fact]
    public void MatchPrefersEveryOtherKindOfSegmentToACatchAll()
    {
        Router<string> router = RouterWith(
            ("GET", "/files/{*path}"),
            ("GET", "/files/{name}"),
            ("GET", "/files/readme"),
            ("GET", "/files/{id:int}/meta"),
            ("GET", "/files/{page:int?}"));

        Assert.Equal("GET /files/readme", Winner(router, "GET", "/files/readme"));
        Assert.Equal("GET /files/{page:int?}", Winner(router, "GET", "/files/7"));
        Assert.Equal("GET /files/{page:int?}", Winner(router, "GET", "/files"));
        Assert.Equal("GET /files/{name}", Winner(router, "GET", "/files/a.txt"));
        Assert.Equal("GET /files/{id:int}/meta", Winner(router, "GET", "/files/7/meta"));
        Assert.Equal("GET /files/{*path}", Winner(router, "GET", "/files/7/other"));
        Assert.Equal("GET /files/{*path}", Winner(router, "GET", "/files/a/b"));
    }

    [Fact]
    public void MatchChecksConstraintsOnACatchAll()
    {
        Router<string> router = RouterWith(("GET", "/f/{*path:minlength(3)}"), ("GET", "/f/{*other}"));

        Assert.Equal("GET /f/{*path:minlength(3)}", Winner(router, "GET", "/f/abc"));
        Assert.Equal("GET /f/{*other}", Winner(router, "GET", "/f/ab"));
        Assert.Equal("GET /f/{*other}", Winner(router, "GET", "/f"));
    }

    [Fact]
    public void MatchTakesACatchAllAtTheRootForEveryPath()
    {
        Router<string> router = RouterWith(("GET", "/{**rest}"), ("GET", "/health"));

        Assert.Equal("GET /health", Winner(router, "GET", "/health"));
        Assert.Equal("", router.Match("GET", "/").Values.GetString("rest"));
        Assert.Equal("a/b", router.Match("GET", "/a/b").Values.GetString("rest"));
    }

    [Fact]
    public void MatchFallsBackFromHeadToGet()
    {
        Router<string> router = RouterWith(("GET", "/a"), ("GET", "/b"), ("HEAD", "/b"));

        Assert.Equal("GET /a", Winner(router, "HEAD", "/a"));
        Assert.Equal("HEAD /b", Winner(router, "HEAD", "/b"));
        Assert.Equal("GET /b", Winner(router, "GET", "/b"));
    }

    [Fact]
    public void MatchPrefersTheExactMethodThenGetForHeadThenAnyMethod()
    {
        Router<string> router = RouterWith(("*", "/x"), ("GET", "/x"), ("POST", "/y"), ("*", "/y"));

        Assert.Equal("GET /x", Winner(router, "GET", "/x"));
        Assert.Equal("GET /x", Winner(router, "HEAD", "/x"));
        Assert.Equal("* /x", Winner(router, "DELETE", "/x"));
        Assert.Equal("* /x", Winner(router, "PROPFIND", "/x"));
        Assert.Equal("POST /y", Winner(router, "POST", "/y"));
        Assert.Equal("* /y", Winner(router, "HEAD", "/y"));
    }

    [Fact]
    public void MatchContinuesToALowerPrecedenceRouteForTheMethod()
    {
        // As ASP.NET Core: the method filters the candidates that match the path, then precedence picks.
        Router<string> router = RouterWith(("GET", "/users/new"), ("POST", "/users/{id}"));

        Assert.Equal("GET /users/new", Winner(router, "GET", "/users/new"));
        Assert.Equal("POST /users/{id}", Winner(router, "POST", "/users/new"));
    }

    [Fact]
    public void MatchPrefersTheHigherPrecedenceGetRouteForHead()
    {
        Router<string> router = RouterWith(("GET", "/users/new"), ("HEAD", "/users/{id}"));

        Assert.Equal("GET /users/new", Winner(router, "HEAD", "/users/new"));
        Assert.Equal("HEAD /users/{id}", Winner(router, "HEAD", "/users/7"));
    }

    [Fact]
    public void MatchReturnsMethodNotAllowedWithTheSortedAllowList()
    {
        Router<string> router = RouterWith(("POST", "/items"), ("GET", "/items"), ("DELETE", "/items/{id}"), ("PUT", "/items/{id:int}"));

        RouteMatch<string> items = router.Match("PATCH", "/items");
        RouteMatch<string> item = router.Match("GET", "/items/5");
        RouteMatch<string> named = router.Match("GET", "/items/five");

        Assert.Equal(RouteMatchStatus.MethodNotAllowed, items.Status);
        Assert.Equal(405, items.StatusCode);
        Assert.Null(items.Route);
        Assert.Equal("GET, HEAD, POST", items.AllowedMethods);
        Assert.Equal("DELETE, PUT", item.AllowedMethods);
        Assert.Equal("DELETE", named.AllowedMethods);
    }

    [Fact]
    public void MatchCollectsTheAllowListFromEveryRouteThatMatchesThePath()
    {
        Router<string> router = RouterWith(
            ("POST", "/users/new"),
            ("PUT", "/users/{id:int}"),
            ("DELETE", "/users/{name}"),
            ("PATCH", "/users/{name}/{x?}"),
            ("OPTIONS", "/users/{*rest}"),
            ("TRACE", "/users/{page:int?}"));

        Assert.Equal("DELETE, OPTIONS, PATCH, POST", router.Match("GET", "/users/new").AllowedMethods);
        Assert.Equal("DELETE, OPTIONS, PATCH, PUT, TRACE", router.Match("GET", "/users/7").AllowedMethods);
        Assert.Equal("OPTIONS, TRACE", router.Match("GET", "/users").AllowedMethods);
        Assert.Equal("OPTIONS, PATCH", router.Match("GET", "/users/a/b").AllowedMethods);
        Assert.Equal("OPTIONS", router.Match("GET", "/users/a/b/c").AllowedMethods);
    }

    [Fact]
    public void MatchListsExtensionMethodsInTheAllowList()
    {
        Router<string> router = RouterWith(("PROPFIND", "/dav"), ("MKCOL", "/dav"), ("GET", "/dav"));

        Assert.Equal("PROPFIND /dav", Winner(router, "PROPFIND", "/dav"));
        Assert.Equal("GET, HEAD, MKCOL, PROPFIND", router.Match("POST", "/dav").AllowedMethods);
        Assert.Equal("GET, HEAD, MKCOL, PROPFIND", router.Match("LOCK", "/dav").AllowedMethods);
    }

    [Fact]
    public void MatchTreatsMethodsCaseSensitively()
    {
        Router<string> router = RouterWith(("GET", "/a"));

        RouteMatch<string> match = router.Match("get", "/a");

        Assert.Equal(RouteMatchStatus.MethodNotAllowed, match.Status);
        Assert.Equal("GET, HEAD", match.AllowedMethods);
    }

    [Fact]
    public void MatchReturnsTheSameAllowStringEachTime()
    {
        Router<string> router = RouterWith(("GET", "/a"));

        Assert.Same(router.Match("POST", "/a").AllowedMethods, router.Match("PUT", "/a").AllowedMethods);
    }

    [Fact]
    public void AddRejectsARouteForTheSameMethodAndTheSamePaths()
    {
        var router = new Router<int>();
        router.Add("GET", "/users/{id:int}", 1);
        router.Add("POST", "/users/{id:int}", 2);
        router.Add("*", "/users/{id:int}", 3);

        ArgumentException error = Assert.Throws<ArgumentException>(() => router.Add("GET", "/Users/{userId:INT}/", 4));
        Assert.Equal("Route 'GET /Users/{userId:INT}/' conflicts with route 'GET /users/{id:int}': they match exactly the same requests. (Parameter 'template')", error.Message);
        Assert.Throws<ArgumentException>(() => router.Add("*", "/users/{x:int}", 5));
        Assert.Equal(3, router.Routes.Count);
    }

    [Fact]
    public void AddAcceptsRoutesThatDifferOnlyInConstraintOrOptionality()
    {
        var router = new Router<int>();
        router.Add("GET", "/p/{a}", 1);
        router.Add("GET", "/p/{b:int}", 2);
        router.Add("GET", "/p/{c?}", 3);
        router.Add("GET", "/p/{*d}", 4);
        router.Add("GET", "/p", 5);

        Assert.Equal(5, router.Routes.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("GE T")]
    [InlineData("GET\r\n")]
    [InlineData("(GET)")]
    public void AddRejectsAMethodThatIsNotAToken(string method)
    {
        var router = new Router<int>();

        ArgumentException error = Assert.Throws<ArgumentException>(() => router.Add(method, "/", 1));

        Assert.Equal("method", error.ParamName);
        Assert.Contains("is not an HTTP method token", error.Message);
    }

    [Fact]
    public void AddAfterBuildThrows()
    {
        var router = new Router<int>();
        router.Add("GET", "/a", 1);
        router.Build();

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => router.Add("GET", "/b", 2));
        Assert.Contains("already built", error.Message);
    }

    [Fact]
    public void MatchBuildsTheTreeOnFirstUse()
    {
        var router = new Router<int>();
        router.Add("GET", "/a", 1);
        Assert.False(router.IsBuilt);

        Assert.Equal(1, router.Match("GET", "/a").Endpoint);

        Assert.True(router.IsBuilt);
        Assert.Throws<InvalidOperationException>(() => router.Add("GET", "/b", 2));
    }

    [Fact]
    public void AnEmptyRouterFindsNothing()
    {
        var router = new Router<int>();

        Assert.Equal(RouteMatchStatus.NotFound, router.Match("GET", "/").Status);
        Assert.Equal(0, router.Match("GET", "/").Endpoint);
    }

    [Fact]
    public void RoutesListsEveryRouteInRegistrationOrder()
    {
        Router<string> router = RouterWith(("GET", "/"), ("POST", "/users"), ("*", "/{*rest}"));

        Assert.Equal(["GET /", "POST /users", "* /{*rest}"], router.Routes.Select(r => r.ToString()));
        Assert.Equal([0, 1, 2], router.Routes.Select(r => r.Order));
        Assert.True(router.Routes[2].IsAnyMethod);
        Assert.Equal("*", Router<string>.AnyMethod);
    }

    [Fact]
    public void MatchAcceptsAPathAsMemoryOverAnyBuffer()
    {
        Router<string> router = RouterWith(("GET", "/users/{id:int}"));
        char[] buffer = "xx/users/12yy".ToCharArray();

        RouteMatch<string> match = router.Match("GET", buffer.AsMemory(2, 9));

        Assert.True(match.Values.TryGetInt("id", out int id));
        Assert.Equal(12, id);
    }

    [Fact]
    public void MatchWorksWithValueTypeEndpoints()
    {
        var router = new Router<int>();
        router.Add("GET", "/a/{x}", 7);

        Assert.Equal(7, router.Match("GET", "/a/b").Endpoint);
        Assert.Equal(0, router.Match("GET", "/b").Endpoint);
    }

    [Fact]
    public void MatchFindsEachOf500GeneratedRoutes()
    {
        var router = new Router<int>();
        string[] methods = ["GET", "POST", "PUT", "DELETE"];
        for (int i = 0; i < 500; i++)
        {
            string template = (i % 5) switch
            {
                0 => $"/api/v{i % 3}/resource{i}",
                1 => $"/api/v{i % 3}/resource{i}/{{id:int}}",
                2 => $"/api/v{i % 3}/resource{i}/{{id:guid}}/items/{{item}}",
                3 => $"/static{i}/{{*path}}",
                _ => $"/r{i}/{{slug:alpha}}/{{page:int?}}",
            };
            router.Add(methods[i % methods.Length], template, i);
        }
        router.Build();
        var guid = Guid.Parse("6f9619ff-8b86-d011-b42d-00c04fc964ff");

        for (int i = 0; i < 500; i++)
        {
            string method = methods[i % methods.Length];
            (string path, string? name, string? value) = (i % 5) switch
            {
                0 => ($"/API/v{i % 3}/Resource{i}", null, null),
                1 => ($"/api/v{i % 3}/resource{i}/{i * 7}", "id", (i * 7).ToString()),
                2 => ($"/api/v{i % 3}/resource{i}/{guid}/items/x{i}", "item", $"x{i}"),
                3 => ($"/static{i}/css/site{i}.css", "path", $"css/site{i}.css"),
                _ => ($"/r{i}/abc/{i}", "page", i.ToString()),
            };

            RouteMatch<int> match = router.Match(method, path);

            Assert.True(match.IsFound, $"{method} {path}");
            Assert.Equal(i, match.Endpoint);
            if (name is not null)
            {
                Assert.Equal(value, match.Values.GetString(name));
            }
            string other = methods[(i + 1) % methods.Length];
            Assert.Equal(RouteMatchStatus.MethodNotAllowed, router.Match(other, path).Status);
        }
        Assert.Equal(RouteMatchStatus.NotFound, router.Match("GET", "/api/v0/resource1/abc").Status);
        Assert.Equal(RouteMatchStatus.NotFound, router.Match("GET", "/api/v0/resource500").Status);
    }

    [Fact]
    public void MatchIsSafeFromManyThreadsAtOnce()
    {
        Router<string> router = RouterWith(("GET", "/users/{id:int}"), ("GET", "/users/{name}"), ("POST", "/users"));

        Parallel.For(0, 20_000, i =>
        {
            RouteMatch<string> match = router.Match("GET", $"/users/{i}");
            Assert.Equal("GET /users/{id:int}", match.Endpoint);
            Assert.True(match.Values.TryGetInt("id", out int id));
            Assert.Equal(i, id);
            Assert.Equal("POST", router.Match("GET", "/users").AllowedMethods);
        });
    }
}
