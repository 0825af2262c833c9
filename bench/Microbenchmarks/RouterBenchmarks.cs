using BenchmarkDotNet.Attributes;
using Eddy.Http.Routing;

namespace Eddy.Microbenchmarks;

/// <summary>Route matching in a tree of a dozen routes: a literal path, a typed parameter, a catch-all, a miss.</summary>
[MemoryDiagnoser]
public class RouterBenchmarks
{
    private readonly Router<int> _router = new();
    private ReadOnlyMemory<char> _path;

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
    }

    [Benchmark]
    public int Match()
    {
        RouteMatch<int> match = _router.Match("GET", _path);
        return match.IsFound ? match.Endpoint : -1;
    }
}
