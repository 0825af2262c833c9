using System.Text;
using BenchmarkDotNet.Attributes;
using Eddy.Http;
using Eddy.Http.Parsing;
using Eddy.Web.Routing;

namespace Eddy.Microbenchmarks;

/// <summary>
/// Route matching in a tree of a dozen routes: a literal path, a typed parameter, a catch-all, a miss. <see cref="Match"/>
/// walks the tree; <see cref="LiteralPathFirst"/> is what <c>WebApp</c> does: the whole-path lookup of the raw bytes,
/// and the walk only when it misses (so its ratio shows the saving on a literal path and the cost of the miss on others).
/// </summary>
[MemoryDiagnoser]
public class RouterBenchmarks
{
    private readonly Router<int> _router = new();
    private ReadOnlyMemory<char> _path;
    private byte[] _rawPath = [];

    [Params("/plaintext", "/users/42/posts", "/static/css/site.css", "/missing")]
    public string Path { get; set; } = "/plaintext";

    [GlobalSetup]
    public void Setup()
    {
        string[] templates =
        [
            "/", "/plaintext", "/json", "/anything", "/anything/{*rest}", "/static/{*path}", "/users", "/users/{id:int}",
            "/users/{id:int}/posts", "/users/{id:int}/posts/{post}", "/orders/{id:guid}", "/health",
        ];
        for (int i = 0; i < templates.Length; i++)
        {
            _router.Add("GET", templates[i], i);
        }
        _router.Build();
        _path = Path.AsMemory();
        _rawPath = Encoding.ASCII.GetBytes(Path);
    }

    [Benchmark(Baseline = true)]
    public int Match()
    {
        RouteMatch<int> match = _router.Match("GET", _path);
        return match.IsFound ? match.Endpoint : -1;
    }

    [Benchmark]
    public int LiteralPathFirst()
    {
        if (_router.MatchLiteralPath(HttpVerb.Get, _rawPath, out _) is { } route)
        {
            return route.Endpoint;
        }
        RouteMatch<int> match = _router.Match("GET", _path);
        return match.IsFound ? match.Endpoint : -1;
    }
}
