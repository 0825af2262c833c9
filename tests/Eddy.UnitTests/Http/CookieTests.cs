using System.Text;
using Eddy.Fuzz;
using Eddy.Http;
using Eddy.Web;

namespace Eddy.UnitTests.Http;

/// <summary>Request cookies (RFC 6265 §5.4 parsing) and Set-Cookie (§4.1), each malformed class with its answer.</summary>
public sealed class CookieTests
{
    /// <summary>The cookies a handler sees for these Cookie field lines, as "name=value" joined by "|", and the skipped count.</summary>
    private static (string Cookies, int Skipped) Received(params string[] cookieLines)
    {
        string cookies = "";
        int skipped = -1;
        var app = new WebApp().MapGet("/", ctx =>
        {
            cookies = string.Join("|", ctx.Request.Cookies.Select(c => c.Key + "=" + c.Value));
            skipped = ctx.Request.Cookies.Skipped;
            ctx.Response.Text("ok");
        });
        var request = new StringBuilder("GET / HTTP/1.1\r\nHost: h\r\n");
        foreach (string line in cookieLines)
        {
            request.Append("Cookie: ").Append(line).Append("\r\n");
        }
        using var http = new InMemoryHttp(app.Build());
        http.Run(() => http.SendAsync(Encoding.UTF8.GetBytes(request.Append("\r\n").ToString())));
        Assert.StartsWith("HTTP/1.1 200 OK", http.OutputText);
        return (cookies, skipped);
    }

    [Theory]
    [InlineData("a=1", "a=1", 0)]
    [InlineData("a=1; b=2", "a=1|b=2", 0)]
    [InlineData("a=1;b=2", "a=1|b=2", 0)]                     // no space after ';'
    [InlineData("  a = 1 ;\tb=2 ; ", "a=1|b=2", 0)]           // whitespace around names, values and separators
    [InlineData("a=\"quoted\"", "a=quoted", 0)]                // DQUOTE *cookie-octet DQUOTE
    [InlineData("a=\"\"", "a=", 0)]                            // an empty quoted value
    [InlineData("a=", "a=", 0)]                                // an empty value is a value
    [InlineData("a=1;;b=2;", "a=1|b=2", 0)]                   // empty pairs are nothing, not malformed
    [InlineData("a=x=y", "a=x=y", 0)]                          // '=' within the value
    [InlineData("a=1; a=2", "a=1", 0)]                         // the first of a repeated name wins
    [InlineData("A=1; a=2", "A=1|a=2", 0)]                     // names are case-sensitive
    [InlineData("novalue; b=2", "b=2", 1)]                     // no '=': skipped
    [InlineData("=1; b=2", "b=2", 1)]                          // empty name
    [InlineData("a b=1; b=2", "b=2", 1)]                       // name not a token (space)
    [InlineData("a(=1; b=2", "b=2", 1)]                        // name not a token (separator)
    [InlineData("a=1 2; b=2", "b=2", 1)]                       // whitespace inside the value
    [InlineData("a=x,y; b=2", "b=2", 1)]                       // comma in the value
    [InlineData("a=x\\y; b=2", "b=2", 1)]                      // backslash in the value
    [InlineData("a=\"x; b=2", "b=2", 1)]                       // an unbalanced quote
    [InlineData("a=x\"y\"; b=2", "b=2", 1)]                    // a quote inside the value
    [InlineData("a=\tx\t", "a=x", 0)]                          // HTAB around the value is whitespace
    [InlineData("a=caf\u00e9", "a=caf\u00e9", 0)]              // UTF-8 bytes as a browser sends them
    public void ACookieFieldIsParsedLenientlySkippingMalformedPairs(string field, string expected, int skipped)
    {
        Assert.Equal((expected, skipped), Received(field));
    }

    [Fact]
    public void SeveralCookieFieldsAreReadInOrder()
    {
        Assert.Equal(("a=1|b=2|c=3", 0), Received("a=1", "b=2; c=3", "a=9"));
    }

    [Fact]
    public void NoCookieFieldMeansNoCookies()
    {
        Assert.Equal(("", 0), Received());
    }

    [Fact]
    public void CountAndSizeAreLimited()
    {
        string many = string.Join("; ", Enumerable.Range(0, 250).Select(i => $"c{i}={i}"));
        (string cookies, _) = Received(many);
        Assert.Equal(200, cookies.Split('|').Length);
        string huge = "big=" + new string('x', 4093) + "; small=1";
        Assert.Equal(("small=1", 1), Received(huge));
        string fits = "big=" + new string('x', 4092);
        Assert.Equal(4096, Received(fits).Cookies.Length);
    }

    [Fact]
    public void CookiesAreNotParsedUnlessAskedAndDoNotLeakToTheNextRequest()
    {
        var seen = new List<int>();
        var app = new WebApp().MapGet("/", ctx =>
        {
            if (ctx.Request.Query.ContainsKey("look"))
            {
                seen.Add(ctx.Request.Cookies.Count);
            }
            ctx.Response.Text("ok");
        });
        using var http = new InMemoryHttp(app.Build());
        http.Run(() => http.SendAsync("GET /?look HTTP/1.1\r\nHost: h\r\nCookie: a=1; b=2\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nCookie: c=3\r\n\r\nGET /?look HTTP/1.1\r\nHost: h\r\n\r\n"u8.ToArray()));
        Assert.Equal([2, 0], seen);
    }

    /// <summary>The Set-Cookie fields of a response made by <paramref name="set"/>.</summary>
    private static string[] SetCookies(Action<HttpResponseCookies> set)
    {
        var app = new WebApp().MapGet("/", ctx =>
        {
            set(ctx.Response.Cookies);
            ctx.Response.Text("ok");
        });
        using var http = new InMemoryHttp(app.Build());
        http.Run(() => http.SendAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n"u8.ToArray()));
        Assert.Empty(http.Errors);
        return [.. http.OutputText.Split("\r\n").Where(l => l.StartsWith("Set-Cookie: ", StringComparison.Ordinal)).Select(l => l["Set-Cookie: ".Length..])];
    }

    [Fact]
    public void AppendWritesEveryAttribute()
    {
        var options = new CookieOptions
        {
            Path = "/app",
            Domain = "example.com",
            Expires = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)),
            MaxAge = TimeSpan.FromSeconds(3600.9),
            Secure = true,
            HttpOnly = true,
            SameSite = SameSiteMode.None,
        };
        Assert.Equal(
            ["sid=abc123; Path=/app; Domain=example.com; Expires=Wed, 02 Jan 2030 01:04:05 GMT; Max-Age=3600; Secure; HttpOnly; SameSite=None", "plain=1", "q=\"v\"; SameSite=Lax", "s=; SameSite=Strict"],
            SetCookies(c =>
            {
                c.Append("sid", "abc123", options);
                c.Append("plain", "1");
                c.Append("q", "\"v\"", new CookieOptions { SameSite = SameSiteMode.Lax });
                c.Append("s", "", new CookieOptions { SameSite = SameSiteMode.Strict });
            }));
    }

    [Fact]
    public void DeleteExpiresTheCookieWithItsPathAndDomain()
    {
        Assert.Equal(
            ["sid=; Path=/app; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"],
            SetCookies(c => c.Delete("sid", new CookieOptions { Path = "/app", Domain = "example.com", MaxAge = TimeSpan.FromDays(1) })));
    }

    [Theory]
    [InlineData("", "v")]              // empty name
    [InlineData("a b", "v")]           // whitespace in the name
    [InlineData("a;b", "v")]           // separator in the name
    [InlineData("a=b", "v")]           // '=' in the name
    [InlineData("a\r\nX-Evil: 1", "v")] // CRLF: response splitting
    [InlineData("caf\u00e9", "v")]     // non-ASCII name
    [InlineData("a", "x;y")]           // ';' would end the value
    [InlineData("a", "x y")]           // whitespace
    [InlineData("a", "x,y")]           // comma
    [InlineData("a", "x\\y")]          // backslash
    [InlineData("a", "x\"y")]          // a quote inside
    [InlineData("a", "\"x")]           // an unbalanced quote
    [InlineData("a", "x\ny")]          // a control
    [InlineData("a", "x\u0000")]       // NUL
    [InlineData("a", "caf\u00e9")]     // non-ASCII: encode it first
    public void ABadNameOrValueIsRefusedAtTheCall(string name, string value)
    {
        var response = SetCookiesRefused(c => c.Append(name, value));
        Assert.IsType<ArgumentException>(response, exactMatch: false);
    }

    [Fact]
    public void BadAttributesAreRefusedAtTheCall()
    {
        Assert.IsType<ArgumentException>(SetCookiesRefused(c => c.Append("a", "1", new CookieOptions { SameSite = SameSiteMode.None })));
        Assert.IsType<ArgumentException>(SetCookiesRefused(c => c.Append("a", "1", new CookieOptions { Path = "/x;Domain=evil" })));
        Assert.IsType<ArgumentException>(SetCookiesRefused(c => c.Append("a", "1", new CookieOptions { Domain = "a\r\nb" })));
        Assert.IsType<ArgumentException>(SetCookiesRefused(c => c.Append("a", "1", new CookieOptions { Path = "" })));
        Assert.IsType<ArgumentException>(SetCookiesRefused(c => c.Delete("a b")), exactMatch: false);
    }

    /// <summary>What <paramref name="set"/> threw in a handler, and that no Set-Cookie was sent for it.</summary>
    private static Exception SetCookiesRefused(Action<HttpResponseCookies> set)
    {
        Exception? thrown = null;
        string[] fields = SetCookies(c =>
        {
            try
            {
                set(c);
            }
            catch (ArgumentException e)
            {
                thrown = e;
            }
        });
        Assert.Empty(fields);
        return Assert.IsAssignableFrom<Exception>(thrown);
    }

    [Fact]
    public void CookiesCannotBeSetOnceTheResponseHasStarted()
    {
        Exception? thrown = null;
        var app = new WebApp().MapGet("/", async ctx =>
        {
            await ctx.Response.WriteAsync("x"u8.ToArray());
            thrown = Record.Exception(() => ctx.Response.Cookies.Append("a", "1"));
        });
        using var http = new InMemoryHttp(app.Build());
        http.Run(() => http.SendAsync("GET / HTTP/1.1\r\nHost: h\r\n\r\n"u8.ToArray()));
        Assert.IsType<InvalidOperationException>(thrown);
    }
}
