using System.Text;
using Eddy.Fuzz;
using Eddy.Http;
using Response = Eddy.UnitTests.Http.HttpConnectionSplitTests.Response;

namespace Eddy.UnitTests.Http;

/// <summary>
/// A connection reuses its context, request, response and body stream for each request; once a handler has
/// completed, any use of them fails at once with an <see cref="ObjectDisposedException"/> that states the rule
/// (issue 14: the README's logging middleware read the request in a CallSoon and got another state's data).
/// </summary>
public sealed class RequestLifetimeTests
{
    private static byte[] Ascii(string text) => Encoding.Latin1.GetBytes(text);

    private static void AssertStatesTheRule(Action use)
    {
        ObjectDisposedException e = Assert.Throws<ObjectDisposedException>(use);
        Assert.Contains("valid only until the handler's task completes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryUseOfAKeptRequestOrResponseFailsOnceItsHandlerCompleted()
    {
        HttpContext? kept = null;
        HttpRequest? request = null;
        HttpResponse? response = null;
        HttpRequestBody? body = null;
        using var http = new InMemoryHttp(ctx =>
        {
            kept = ctx;
            request = ctx.Request;
            response = ctx.Response;
            body = ctx.Request.Body;
            Assert.Equal("/a", ctx.Request.Path); // live while the handler runs
            ctx.Response.Text("a");
            return ValueTask.CompletedTask;
        });
        http.Run(async () =>
        {
            await http.SendAsync(Ascii("POST /a?x=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi"));
            Assert.NotNull(kept);
            AssertStatesTheRule(() => _ = kept!.Request);
            AssertStatesTheRule(() => _ = kept!.Response);
            AssertStatesTheRule(() => _ = kept!.Items);
            AssertStatesTheRule(() => _ = request!.Path);
            AssertStatesTheRule(() => _ = request!.Method);
            AssertStatesTheRule(() => _ = request!.RawTarget);
            AssertStatesTheRule(() => _ = request!.Query);
            AssertStatesTheRule(() => _ = request!.PathMemory);
            AssertStatesTheRule(() => _ = request!.Headers["Host"]);
            AssertStatesTheRule(() => _ = request!.ContentLength);
            AssertStatesTheRule(() => _ = request!.Body);
            AssertStatesTheRule(() => _ = request!.ReadBodyAsync());
            AssertStatesTheRule(() => _ = body!.ReadAsync(new byte[10]));
            AssertStatesTheRule(() => _ = body!.Read(new byte[10]));
            AssertStatesTheRule(() => _ = response!.StatusCode);
            AssertStatesTheRule(() => response!.StatusCode = 404);
            AssertStatesTheRule(() => response!.Headers.Set("X-Late", "1"));
            AssertStatesTheRule(() => response!.Text("late"));
            AssertStatesTheRule(() => _ = response!.WriteAsync(new byte[1]));
            Assert.Same(http.Loop, kept!.Loop); // the loop outlives the request
        });
        Assert.Equal("a", Encoding.UTF8.GetString(Assert.Single(Response.ParseAll(http.Output, out _)).Body));
        Assert.Empty(http.Errors);
    }

    [Fact]
    public void ACallbackAfterTheHandlerNeverSeesTheNextPipelinedRequest()
    {
        // The README's first logging middleware, as it was: read the request in a CallSoon after the handler.
        var seen = new List<string>();
        using var http = new InMemoryHttp(ctx =>
        {
            ctx.Response.Text(ctx.Request.Path);
            ctx.Loop.CallSoon(() =>
            {
                try
                {
                    seen.Add(ctx.Request.Path);
                }
                catch (ObjectDisposedException)
                {
                    seen.Add("disposed");
                }
            });
            return ValueTask.CompletedTask;
        });
        http.Run(async () =>
        {
            await http.SendAsync(Ascii("GET /first HTTP/1.1\r\nHost: t\r\n\r\nGET /second HTTP/1.1\r\nHost: t\r\n\r\n"));
            await http.SendAsync(Ascii("GET /third HTTP/1.1\r\nHost: t\r\n\r\n"));
        });
        Assert.Equal(["disposed", "disposed", "disposed"], seen);
        List<Response> responses = Response.ParseAll(http.Output, out _);
        Assert.Equal(["/first", "/second", "/third"], responses.Select(r => Encoding.UTF8.GetString(r.Body)));
    }

    [Fact]
    public void AnAsynchronousHandlerUsesItsRequestUntilItCompletesAndTheNextRequestGetsItBack()
    {
        HttpContext? kept = null;
        var paths = new List<string>();
        using var http = new InMemoryHttp(async ctx =>
        {
            kept = ctx;
            string body = await ctx.Request.ReadTextAsync(); // goes asynchronous: the body comes in a later read
            paths.Add(ctx.Request.Path); // still valid after the await
            ctx.Response.Text(body);
        });
        http.Run(async () =>
        {
            await http.SendAsync(Ascii("POST /one HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\n"));
            Assert.Equal("/one", kept!.Request.Path); // the handler is still running
            await http.SendAsync(Ascii("abc"));
            AssertStatesTheRule(() => _ = kept!.Request);
            await http.SendAsync(Ascii("POST /two HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nd"));
        });
        Assert.Equal(["/one", "/two"], paths);
        Assert.Equal(["abc", "d"], Response.ParseAll(http.Output, out _).Select(r => Encoding.UTF8.GetString(r.Body)));
    }
}
