using Eddy.Http;
using Eddy.Http.Parsing;
using Eddy.Web.Routing;

namespace Eddy.UnitTests.Web.Routing;

/// <summary>Matching allocates nothing once the tree is built: measured on this thread with GC.GetAllocatedBytesForCurrentThread.</summary>
public sealed class RouterAllocationTests
{
    private const int Iterations = 10_000;

    private static Router<string> CreateRouter()
    {
        var router = new Router<string>();
        router.Add("GET", "/plaintext", "plaintext");
        router.Add("GET", "/json", "json");
        router.Add("GET", "/users/{id:int}/posts/{postId:int}", "post");
        router.Add("GET", "/users/{name}/posts/{slug}", "post by slug");
        router.Add("DELETE", "/users/{id:int}", "delete user");
        router.Add("GET", "/static/{*path}", "static");
        for (int i = 0; i < 20; i++)
        {
            router.Add("GET", $"/page{i}", $"page{i}");
        }
        router.Build();
        return router;
    }

    /// <summary>
    /// Bytes allocated on this thread by <see cref="Iterations"/> calls, the least over three windows: an allocation per
    /// call shows in every window, while the runtime's own one-off work (tiering up hot code on a timer, under load)
    /// can land in one of them.
    /// </summary>
    private static long Measure(Func<int> body)
    {
        // Warm up: JIT and first-call paths (the 405 cache's first GetOrAdd allocates on its first two calls).
        int sink = 0;
        for (int i = 0; i < 1000; i++)
        {
            sink += body();
        }
        long least = long.MaxValue;
        for (int window = 0; window < 3 && least > 0; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Iterations; i++)
            {
                sink += body();
            }
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.NotEqual(int.MinValue, sink);
        return least;
    }

    [Fact]
    public void MatchingAStaticRouteAllocatesNothing()
    {
        Router<string> router = CreateRouter();

        long allocated = Measure(() => router.Match("GET", "/plaintext").IsFound ? 1 : 0);

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void TheLiteralPathFastPathAllocatesNothingOnHitOrMiss()
    {
        Router<string> router = CreateRouter();

        long allocated = Measure(() =>
            (router.MatchLiteralPath(HttpVerb.Get, "/plaintext"u8, out _) is null ? 0 : 1)
            + (router.MatchLiteralPath(HttpVerb.Head, "/PAGE17/"u8, out _) is null ? 0 : 1)
            + (router.MatchLiteralPath(HttpVerb.Get, "/users/42"u8, out _) is null ? 0 : 1));

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void MatchingARouteWithParametersAndReadingThemAllocatesNothing()
    {
        Router<string> router = CreateRouter();

        long allocated = Measure(() =>
        {
            RouteMatch<string> match = router.Match("GET", "/users/42/posts/7");
            match.Values.TryGetInt("id", out int id);
            match.Values.TryGetSpan("postId", out ReadOnlySpan<char> postId);
            return id + postId.Length;
        });

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void BacktrackingCatchAllsHeadFallbackAndHashedLiteralsAllocateNothing()
    {
        Router<string> router = CreateRouter();

        long allocated = Measure(() =>
            router.Match("GET", "/users/bob/posts/hello").Values.Count
            + router.Match("GET", "/static/css/site.css").Values.Count
            + router.Match("HEAD", "/json").StatusCode
            + router.Match("GET", "/PAGE17").StatusCode);

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void NotFoundAndMethodNotAllowedAllocateNothingOnceTheAllowHeaderIsCached()
    {
        Router<string> router = CreateRouter();

        long allocated = Measure(() =>
            router.Match("GET", "/nowhere/at/all").StatusCode
            + router.Match("POST", "/plaintext").AllowedMethods!.Length
            + router.Match("GET", "/users/42").AllowedMethods!.Length);

        Assert.Equal(0, allocated);
    }
}
