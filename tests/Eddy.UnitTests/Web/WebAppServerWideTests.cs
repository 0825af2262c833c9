using System.Text;
using Eddy.Fuzz;
using Eddy.Web;
using Response = Eddy.UnitTests.Http.HttpConnectionSplitTests.Response;

namespace Eddy.UnitTests.Web;

/// <summary>Requests about the server rather than a resource: <c>OPTIONS *</c> and <c>CONNECT</c> (RFC 9110 §9.3.6-7).</summary>
public sealed class WebAppServerWideTests
{
    private static WebApp App() => new WebApp()
        .MapGet("/a", ctx => ctx.Response.Text("a"))
        .MapPost("/b", ctx => ctx.Response.Text("b"))
        .MapDelete("/c", ctx => ctx.Response.Text("c"));

    private static string Exchange(WebApp app, string request)
    {
        using var http = new InMemoryHttp(app.Build());
        http.Run(() => http.SendAsync(Encoding.ASCII.GetBytes(request)));
        return http.OutputText;
    }

    [Fact]
    public void OptionsStarIsAnsweredWithTheMethodsTheApplicationServes()
    {
        string answer = Exchange(App(), "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK", answer);
        Assert.Contains("\r\nAllow: GET, HEAD, POST, DELETE, OPTIONS\r\n", answer);
        Assert.Contains("\r\nContent-Length: 0\r\n", answer);
    }

    [Fact]
    public void OptionsOnAPathStillGoesToTheRouter()
    {
        string answer = Exchange(App(), "OPTIONS /a HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 405 ", answer);
        Assert.Contains("\r\nAllow: GET", answer);
    }

    [Fact]
    public void ConnectIsNotImplementedUnlessARouteTakesIt()
    {
        string answer = Exchange(App(), "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        Response response = Assert.Single(Response.ParseAll(Encoding.Latin1.GetBytes(answer), out _));
        Assert.Equal(501, response.Status);
        Assert.True(response.CloseConnection, "what follows a CONNECT was meant for the tunnel, not for this server");

        string taken = Exchange(App().Map("CONNECT", "/{*any}", ctx => ctx.Response.Text("tunnel")), "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 ", taken);
        Assert.DoesNotContain(" 501 ", taken.Split("\r\n")[0]);
    }
}
