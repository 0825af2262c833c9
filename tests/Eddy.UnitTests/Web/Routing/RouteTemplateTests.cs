using Eddy.Web.Routing;
using Eddy.Web.Routing.Internal;

namespace Eddy.UnitTests.Web.Routing;

public sealed class RouteTemplateTests
{
    [Theory]
    [InlineData("", "/")]
    [InlineData("/", "/")]
    [InlineData("users", "/users")]
    [InlineData("/users", "/users")]
    [InlineData("/users/", "/users")]
    [InlineData("/Users/New", "/users/new")]
    [InlineData("/users/{id}", "/users/{}")]
    [InlineData("/users/{id:int}", "/users/{int}")]
    [InlineData("/users/{id:INT}", "/users/{int}")]
    [InlineData("/users/{id:min(1):int}", "/users/{int:min(1)}")]
    [InlineData("/users/{id:int:min(1)}", "/users/{int:min(1)}")]
    [InlineData("/posts/{page?}", "/posts/{?}")]
    [InlineData("/posts/{page:int?}", "/posts/{int?}")]
    [InlineData("/files/{*path}", "/files/{*}")]
    [InlineData("/files/{**path}", "/files/{*}")]
    [InlineData("/x/{v:length(+05)}", "/x/{length(5)}")]
    [InlineData("/x/{v:length(2,5)}", "/x/{length(2,5)}")]
    [InlineData("/x/{n:range(-3,9)}", "/x/{range(-3,9)}")]
    [InlineData("/a.b/c-d_e/~f", "/a.b/c-d_e/~f")]
    public void ParseNormalisesSlashesCaseAndConstraintsInTheShapeKey(string template, string shape)
    {
        RouteTemplate parsed = RouteTemplate.Parse(template);

        Assert.Equal(shape, parsed.ShapeKey);
        Assert.Equal(template, parsed.Text);
    }

    [Fact]
    public void ParseReturnsParameterNamesInTemplateOrder()
    {
        RouteTemplate parsed = RouteTemplate.Parse("/users/{userId:int}/posts/{postId}/{*rest}");

        Assert.Equal(["userId", "postId", "rest"], parsed.ParameterNames);
        Assert.Equal(
            [SegmentKind.Literal, SegmentKind.Parameter, SegmentKind.Literal, SegmentKind.Parameter, SegmentKind.CatchAll],
            parsed.Segments.Select(s => s.Kind));
    }

    [Fact]
    public void ParseAcceptsEightParameters()
    {
        RouteTemplate parsed = RouteTemplate.Parse("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}");

        Assert.Equal(8, parsed.ParameterNames.Length);
    }

    [Fact]
    public void AddReturnsTheRouteWithItsTemplateAndParameterNames()
    {
        var router = new Router<string>();

        Route<string> route = router.Add("GET", "/users/{id:int}/posts/{postId}", "handler");

        Assert.Equal("GET", route.Method);
        Assert.Equal("/users/{id:int}/posts/{postId}", route.Template);
        Assert.Equal(["id", "postId"], route.ParameterNames);
        Assert.Equal("handler", route.Endpoint);
        Assert.Equal(0, route.Order);
        Assert.False(route.IsAnyMethod);
        Assert.Equal("GET /users/{id:int}/posts/{postId}", route.ToString());
    }

    [Theory]
    [InlineData("/users/{id", "unbalanced braces: '{' at index 7 is never closed")]
    [InlineData("/users/id}", "unbalanced braces: '}' at index 9 has no matching '{'")]
    [InlineData("/users/{{id}}", "unbalanced braces: '{' at index 8 is inside the parameter opened at index 7")]
    [InlineData("/users/{a/b}", "unbalanced braces: the parameter opened at index 7 is not closed before the '/' at index 9")]
    [InlineData("/{}", "the parameter '{}' at index 1 has an empty name")]
    [InlineData("/{:int}", "the parameter '{:int}' at index 1 has an empty name")]
    [InlineData("/{?}", "has an empty name")]
    [InlineData("/{*}", "has an empty name")]
    [InlineData("/{a}/{A}", "the parameter name 'A' is used more than once (names are case-insensitive)")]
    [InlineData("/{id}/x/{id:int}", "the parameter name 'id' is used more than once")]
    [InlineData("/files/{*path}/edit", "the catch-all parameter 'path' must be the last segment")]
    [InlineData("/posts/{page?}/comments", "the optional parameter 'page' must be the last segment")]
    [InlineData("/{*path?}", "the catch-all parameter '{*path?}' cannot be optional")]
    [InlineData("/{id:foo}", "unknown constraint 'foo' on parameter 'id' (known: int, long, guid")]
    [InlineData("/{id:regex(^a$)}", "unknown constraint 'regex' on parameter 'id'")]
    [InlineData("/{id:int(3)}", "the constraint 'int(3)' on parameter 'id' takes no arguments")]
    [InlineData("/{id:int:}", "the parameter 'id' has an empty constraint")]
    [InlineData("/{x:minlength}", "the constraint 'minlength' on parameter 'x' needs one non-negative integer argument, as in minlength(3)")]
    [InlineData("/{x:minlength(-1)}", "needs one non-negative integer argument")]
    [InlineData("/{x:maxlength(ten)}", "the constraint 'maxlength(ten)' on parameter 'x' needs one non-negative integer argument")]
    [InlineData("/{x:min(1}", "the constraint 'min(1' on parameter 'x' has an unclosed '('")]
    [InlineData("/{x:max()}", "the constraint 'max()' on parameter 'x' needs one integer argument, as in max(3)")]
    [InlineData("/{x:range(1)}", "the constraint 'range(1)' on parameter 'x' needs two integer arguments, as in range(1,9)")]
    [InlineData("/{x:range(9,1)}", "the constraint 'range(9,1)' on parameter 'x' has its minimum 9 above its maximum 1")]
    [InlineData("/{x:length(5,2)}", "has its minimum 5 above its maximum 2")]
    [InlineData("/{x:range(1,99999999999999999999)}", "needs two integer arguments")]
    [InlineData("/a//b", "empty segment at index 3 ('//')")]
    [InlineData("//", "empty segment at index 1")]
    [InlineData("/a?b", "the literal segment 'a?b' contains '?'")]
    [InlineData("/file{id}", "the segment 'file{id}' mixes literal text and a parameter")]
    [InlineData("/{name}.{ext}", "the segment '{name}.{ext}' mixes literal text and a parameter, or has several parameters")]
    [InlineData("/{a}{b}", "has several parameters")]
    [InlineData("/{id=3}", "the parameter '{id=3}' has a default value; defaults are not supported")]
    [InlineData("/{a b}", "the parameter name 'a b' in '{a b}' may contain only ASCII letters, digits, '_' and '-'")]
    [InlineData("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", "it has 9 parameters; at most 8 are supported")]
    public void AddRejectsAnInvalidTemplateNamingTheTemplateAndTheProblem(string template, string problem)
    {
        var router = new Router<int>();

        ArgumentException error = Assert.Throws<ArgumentException>(() => router.Add("GET", template, 1));

        Assert.StartsWith($"Invalid route template '{template}': ", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.Equal("template", error.ParamName);
        Assert.Empty(router.Routes);
    }

    [Fact]
    public void AddRejectsANullTemplate()
    {
        var router = new Router<int>();

        Assert.Throws<ArgumentNullException>(() => router.Add("GET", null!, 1));
    }
}
