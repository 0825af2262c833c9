using System.Text;
using Eddy.Fuzz;
using Eddy.Web;
using Eddy.Web.Forms;

namespace Eddy.UnitTests.Web.Forms;

/// <summary>Forms read through a whole connection: fields, files, skipping, limits (413) and bad input (400), each with its answer.</summary>
public sealed class FormReadingTests
{
    private const string Multipart = "multipart/form-data; boundary=\"b-1\"";

    private static string Request(string contentType, string body, bool close = false) =>
        $"POST /form HTTP/1.1\r\nHost: h\r\nContent-Type: {contentType}\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n{(close ? "Connection: close\r\n" : "")}\r\n{body}";

    private static string Part(string name, string data, string? file = null) =>
        $"--b-1\r\nContent-Disposition: form-data; name=\"{name}\"{(file is null ? "" : $"; filename=\"{file}\"")}\r\n\r\n{data}\r\n";

    /// <summary>Sends <paramref name="requests"/> one byte at a time (every split) to an app whose /form runs <paramref name="handler"/>.</summary>
    private static string Exchange(Func<Eddy.Http.HttpContext, ValueTask> handler, string requests, bool bytewise = true)
    {
        var app = new WebApp().MapPost("/form", ctx => handler(ctx));
        using var http = new InMemoryHttp(app.Build());
        byte[] bytes = Encoding.UTF8.GetBytes(requests);
        http.Run(async () =>
        {
            if (!bytewise)
            {
                await http.SendAsync(bytes);
                return;
            }
            for (int i = 0; i < bytes.Length; i++)
            {
                await http.SendAsync(bytes.AsMemory(i, 1));
            }
        });
        Assert.Empty(http.Errors);
        return Encoding.UTF8.GetString(http.Output);
    }

    private static async ValueTask Summarize(Eddy.Http.HttpContext ctx, bool includeFiles = false, FormOptions? options = null)
    {
        FormData form = await ctx.Request.ReadFormAsync(includeFiles, options);
        ctx.Response.Text(string.Join("&", form.Fields.Select(f => f.Key + "=" + f.Value))
            + "|" + string.Join(",", form.Files.Select(f => $"{f.Name}:{f.FileName}:{Encoding.UTF8.GetString(f.Content.Span)}")));
    }

    [Fact]
    public void ReadFormGivesFieldsAndFilesOnlyWhenAsked()
    {
        string body = "preamble\r\n" + Part("a", "1") + Part("f", "file data", "x.txt") + Part("a", "caf\u00e9") + "--b-1--\r\nepilogue";
        Assert.EndsWith("\r\n\r\na=1&a=caf\u00e9|", Exchange(ctx => Summarize(ctx), Request(Multipart, body)));
        Assert.EndsWith("\r\n\r\na=1&a=caf\u00e9|f:x.txt:file data", Exchange(ctx => Summarize(ctx, includeFiles: true), Request(Multipart, body)));
    }

    [Fact]
    public void UrlEncodedFormsAreDecodedAsTheyArrive()
    {
        string answer = Exchange(ctx => Summarize(ctx), Request("application/x-www-form-urlencoded; charset=utf-8", "a=1+2&b=%C3%A9%zz&&flag&=v&c=x%3Dy"));
        Assert.EndsWith("\r\n\r\na=1 2&b=\u00e9%zz&flag=&=v&c=x=y|", answer);
    }

    [Fact]
    public void PartsStreamInOrderAndUnreadOnesAreSkipped()
    {
        string body = Part("skip", new string('s', 3000)) + Part("read", "wanted", "r.bin") + Part("half", new string('h', 5000)) + "--b-1--";
        string answer = Exchange(async ctx =>
        {
            var seen = new StringBuilder();
            await foreach (MultipartSection part in ctx.Request.ReadMultipartAsync())
            {
                seen.Append(part.Name).Append(part.IsFile ? "(file)" : "").Append(':');
                if (part.Name == "read")
                {
                    seen.Append(await new StreamReader(part.Body).ReadToEndAsync());
                }
                else if (part.Name == "half")
                {
                    byte[] some = new byte[10];
                    seen.Append(await part.Body.ReadAsync(some));
                }
                seen.Append(';');
            }
            ctx.Response.Text(seen.ToString());
        }, Request(Multipart, body) + "GET /next HTTP/1.1\r\nHost: h\r\n\r\n", bytewise: false);
        Assert.Contains("\r\n\r\nskip:;read(file):wanted;half:10;", answer);
        Assert.Contains("HTTP/1.1 404 ", answer); // the next request on the connection: the form was read to its end
    }

    [Theory]
    [InlineData("text/plain", "a=1", 400, "Invalid form data: the request's Content-Type is neither application/x-www-form-urlencoded nor multipart/form-data.")]
    [InlineData("multipart/form-data; boundary=b-1", "--b-1\r\nContent-Disposition: form-data; name=a\r\n\r\nno end", 400, "Invalid form data: the multipart body ended before its final boundary (--boundary--).")]
    [InlineData("multipart/form-data; boundary=", "--b-1--", 400, "Invalid form data: the multipart boundary must be 1 to 70 characters of DIGIT, ALPHA and '()+_,-./:=? (not ending in a space).")]
    [InlineData("multipart/form-data; boundary=b-1", "--b-1\r\nContent-Disposition: form-data; name=a\r\n\r\n12345678901\r\n--b-1--", 413, "Form data too large: a field is over 10 bytes.")]
    [InlineData("multipart/form-data; boundary=b-1", "--b-1\r\nContent-Disposition: form-data; name=a; filename=f\r\n\r\n123456789012345678901\r\n--b-1--", 413, "Form data too large: the files are over 20 bytes together.")]
    [InlineData("multipart/form-data; boundary=b-1", "--b-1\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b-1\r\nContent-Disposition: form-data; name=b\r\n\r\n2\r\n--b-1\r\nContent-Disposition: form-data; name=c\r\n\r\n3\r\n--b-1--", 413, "Form data too large: more than 2 parts.")]
    [InlineData("multipart/form-data; boundary=b-1", "--b-1\r\nContent-Disposition: form-data; name=a\r\nX-Long: 0123456789012345678901234567890123456789\r\n\r\n1\r\n--b-1--", 413, "Form data too large: a part's header block is over 64 bytes.")]
    [InlineData("multipart/form-data; boundary=b-1", "--b-1\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b-1--\r\n" + "an epilogue that goes on and on and on and on and on and on and on and on and on and on and on and on and on and on and on and on and on and on and on and on", 413, "Form data too large: the body is over 200 bytes.")]
    [InlineData("application/x-www-form-urlencoded", "a=1&b=12345678901", 413, "Form data too large: a field is over 10 bytes.")]
    [InlineData("application/x-www-form-urlencoded", "a=1&b=2&c=3", 413, "Form data too large: more than 2 fields.")]
    public void BadOrOversizedFormsAreAnsweredWithTheirReasonAndTheConnectionCloses(string contentType, string body, int status, string message)
    {
        var options = new FormOptions { MaxFieldSize = 10, MaxParts = 2, MaxPartHeaderBytes = 64, MaxBufferedFileBytes = 20, MaxTotalSize = 200 };
        string answer = Exchange(ctx => Summarize(ctx, includeFiles: true, options), Request(contentType, body) + "GET /never HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.StartsWith($"HTTP/1.1 {status} ", answer);
        Assert.Contains("Connection: close\r\n", answer);
        Assert.EndsWith("\r\n\r\n" + message + "\n", answer);
    }
}
