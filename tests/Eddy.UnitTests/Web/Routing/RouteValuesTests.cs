using Eddy.Web.Routing;

namespace Eddy.UnitTests.Web.Routing;

public sealed class RouteValuesTests
{
    private static RouteValues Values(string template, string path)
    {
        var router = new Router<int>();
        router.Add("GET", template, 1);
        RouteMatch<int> match = router.Match("GET", path);
        Assert.True(match.IsFound, path);
        return match.Values;
    }

    [Fact]
    public void ValuesAreReadByNameIgnoringAsciiCase()
    {
        RouteValues values = Values("/u/{userId}/p/{postId}", "/u/ann/p/7");

        Assert.True(values.TryGetSpan("userId", out ReadOnlySpan<char> user));
        Assert.Equal("ann", user.ToString());
        Assert.True(values.TryGetSpan("USERID", out user));
        Assert.Equal("ann", user.ToString());
        Assert.True(values.Contains("postid"));
        Assert.False(values.Contains("missing"));
        Assert.False(values.TryGetSpan("missing", out _));
        Assert.False(values.TryGetString("missing", out string? none));
        Assert.Null(none);
        Assert.True(values.TryGetString("postId", out string? post));
        Assert.Equal("7", post);
    }

    [Fact]
    public void ValuesAreReadByIndexInTemplateOrder()
    {
        RouteValues values = Values("/{a}/{b}/{*c}", "/x/y/z/w");

        Assert.Equal(3, values.Count);
        Assert.Equal(["a", "b", "c"], Enumerable.Range(0, 3).Select(values.GetName));
        Assert.Equal(["x", "y", "z/w"], Enumerable.Range(0, 3).Select(values.GetString));
        Assert.Equal("z/w", values.GetMemory(2).ToString());
        Assert.Equal("y", values.GetSpan(1).ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => values.GetName(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => values.GetSpan(-1).ToString());
    }

    [Fact]
    public void ValuesEnumerateAsNameValuePairs()
    {
        RouteValues values = Values("/{a}/{b}", "/x/y");
        var pairs = new List<string>();

        foreach (RouteValue value in values)
        {
            pairs.Add(value.ToString());
        }

        Assert.Equal(["a=x", "b=y"], pairs);
    }

    [Fact]
    public void ValuesAreSlicesOfThePathNotCopies()
    {
        const string Path = "/users/42/posts/7";
        RouteValues values = Values("/users/{id}/posts/{postId}", Path);

        Assert.True(values.TryGetMemory("id", out ReadOnlyMemory<char> id));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetString(id, out string? text, out int start, out int length));
        Assert.Same(Path, text);
        Assert.Equal((7, 2), (start, length));
    }

    [Fact]
    public void TypedGettersParseLikeTheConstraints()
    {
        RouteValues values = Values("/{i}/{l}/{g}/{b}/{s}", "/-12/9000000000/6f9619ff8b86d011b42d00c04fc964ff/TRUE/abc");

        Assert.True(values.TryGetInt("i", out int i));
        Assert.Equal(-12, i);
        Assert.False(values.TryGetInt("l", out _));
        Assert.True(values.TryGetLong("l", out long l));
        Assert.Equal(9_000_000_000L, l);
        Assert.True(values.TryGetGuid("g", out Guid g));
        Assert.Equal(Guid.Parse("6f9619ff-8b86-d011-b42d-00c04fc964ff"), g);
        Assert.True(values.TryGetBool("b", out bool b));
        Assert.True(b);
        Assert.False(values.TryGetInt("s", out int s));
        Assert.Equal(0, s);
        Assert.False(values.TryGetBool("s", out _));
        Assert.False(values.TryGetGuid("s", out _));
        Assert.False(values.TryGetLong("nope", out _));
    }

    [Fact]
    public void DefaultValuesAreEmpty()
    {
        RouteValues values = default;

        Assert.Equal(0, values.Count);
        Assert.False(values.Contains("x"));
        Assert.Null(values.GetString("x"));
        foreach (RouteValue _ in values)
        {
            Assert.Fail("no values expected");
        }
    }

    [Fact]
    public void AnEmptyCatchAllHasTheEmptyValue()
    {
        RouteValues values = Values("/files/{*path}", "/files");

        Assert.True(values.TryGetString("path", out string? path));
        Assert.Equal("", path);
    }

    [Fact]
    public void EightParametersFitInline()
    {
        RouteValues values = Values("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{*h}", "/1/2/3/4/5/6/7/8/9");

        Assert.Equal(8, values.Count);
        Assert.Equal("8/9", values.GetString("h"));
        Assert.Equal("1", values.GetString("a"));
    }
}
