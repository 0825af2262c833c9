using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Eddy.Fuzz;
using Eddy.Http;
using Eddy.Web;
using Response = Eddy.UnitTests.Http.HttpConnectionSplitTests.Response;

namespace Eddy.UnitTests.Http;

/// <summary>
/// The request body through a whole connection, in memory (no socket, no real time): the handler runs on the
/// head and reads the body as it arrives, back-pressure bounds what waits, the limit is enforced at the first
/// read, 100 Continue goes out when the handler first reads, and what a handler leaves unread is dropped or
/// ends the connection.
/// </summary>
public sealed class HttpConnectionBodyTests
{
    private static byte[] Ascii(string text) => Encoding.Latin1.GetBytes(text);

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private static string Head(string method, string target, string fields = "") => $"{method} {target} HTTP/1.1\r\nHost: test\r\n{fields}\r\n";

    /// <summary>Reads the whole body in 4 KiB reads and answers its length and SHA-256.</summary>
    private static async ValueTask Digest(HttpContext ctx)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[4096];
        long total = 0;
        int n;
        while ((n = await ctx.Request.Body.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            total += n;
        }
        ctx.Response.Text($"{total} {Convert.ToHexStringLower(sha.GetHashAndReset())}");
    }

    private static string DigestOf(byte[] body) => $"{body.Length} {Convert.ToHexStringLower(SHA256.HashData(body))}";

    private static List<Response> Responses(InMemoryHttp http)
    {
        List<Response> responses = Response.ParseAll(http.Output, out int rest);
        Assert.True(rest == 0, $"{rest} bytes after the last whole response:\n{http.OutputText}");
        return responses;
    }

    private static string Text(Response response) => Encoding.UTF8.GetString(response.Body);

    [Fact]
    public void TheHandlerRunsOnTheHeadAndReadsTheBodyAsItArrives()
    {
        var seen = new List<string>();
        RequestHandler app = async ctx =>
        {
            seen.Add("handler");
            byte[] buffer = new byte[100];
            int n;
            while ((n = await ctx.Request.Body.ReadAsync(buffer)) > 0)
            {
                seen.Add(Encoding.ASCII.GetString(buffer, 0, n));
            }
            ctx.Response.Text("done");
        };
        using var http = new InMemoryHttp(app);
        http.Run(async () =>
        {
            await http.SendAsync(Ascii(Head("POST", "/", "Content-Length: 10\r\n")));
            Assert.Equal(["handler"], seen); // no body yet: the handler is already running
            await http.SendAsync(Ascii("01234"));
            Assert.Equal(["handler", "01234"], seen);
            Assert.Empty(http.Output);
            await http.SendAsync(Ascii("56789"));
        });
        Assert.Equal(["handler", "01234", "56789"], seen);
        Assert.Equal("done", Text(Assert.Single(Responses(http))));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnUploadMuchLargerThanTheBufferIsHeldToTheBufferWhileTheHandlerDoesNotRead(bool chunked)
    {
        byte[] body = RandomNumberGenerator.GetBytes(1 << 20);
        var release = new TaskCompletionSource();
        RequestHandler app = async ctx =>
        {
            await release.Task; // does not read until told to
            await Digest(ctx);
        };
        using var http = new InMemoryHttp(app);
        http.Run(async () =>
        {
            await http.SendAsync(Ascii(Head("POST", "/", chunked ? "Transfer-Encoding: chunked\r\n" : $"Content-Length: {body.Length}\r\n")));
            for (int at = 0; at < body.Length; at += 16 * 1024)
            {
                byte[] piece = body.AsSpan(at, 16 * 1024).ToArray();
                await http.SendAsync(chunked ? Concat(Ascii($"{piece.Length:x}\r\n"), piece, Ascii("\r\n")) : piece);
            }
            if (chunked)
            {
                await http.SendAsync(Ascii("0\r\n\r\n"));
            }
            // The connection stopped reading once 64 KiB waited; the rest is still on the wire (the transport's queue).
            Assert.False(http.Transport.IsReading);
            Assert.InRange(http.Transport.Delivered, 64 * 1024, 64 * 1024 + 17 * 1024 + 200);
            release.SetResult();
            await http.SettleAsync();
        });
        Assert.Equal(DigestOf(body), Text(Assert.Single(Responses(http))));
        Assert.True(http.Transport.ReadPauses >= 1, "reading should have paused while the handler did not read");
    }

    [Fact]
    public void AContentLengthOverTheLimitIs413AtTheFirstReadAndNo100IsSent()
    {
        using var http = new InMemoryHttp(Digest, new HttpServerOptions { MaxRequestBodySize = 1000 });
        http.Run(() => http.SendAsync(Ascii(Head("POST", "/", "Content-Length: 1001\r\nExpect: 100-continue\r\n"))));
        Assert.StartsWith("HTTP/1.1 413 ", http.OutputText);
        Assert.DoesNotContain("100 Continue", http.OutputText);
        Assert.True(Assert.Single(Responses(http)).CloseConnection);
        Assert.True(http.Transport.ServerEnded);
        Assert.Empty(http.Errors); // the client's doing, not a bug to log
    }

    [Fact]
    public void AChunkedBodyPassingTheLimitIs413AndTheConnectionCloses()
    {
        using var http = new InMemoryHttp(Digest, new HttpServerOptions { MaxRequestBodySize = 1000 });
        http.Run(async () =>
        {
            await http.SendAsync(Ascii(Head("POST", "/", "Transfer-Encoding: chunked\r\n") + "3e8\r\n"));
            await http.SendAsync(new byte[1000]);
            await http.SendAsync(Ascii("\r\n1\r\nx\r\n0\r\n\r\n" + Head("GET", "/next")));
        });
        Response response = Assert.Single(Responses(http));
        Assert.Equal(413, response.Status);
        Assert.True(http.Transport.ServerEnded);
    }

    [Fact]
    public void AHandlerCanLiftTheLimitForItsOwnRequestBeforeReadingButNotAfter()
    {
        byte[] body = RandomNumberGenerator.GetBytes(3000);
        Exception? late = null;
        RequestHandler app = async ctx =>
        {
            ctx.Request.MaxBodySize = null;
            ReadOnlyMemory<byte> all = await ctx.Request.ReadBodyAsync();
            late = Record.Exception(() => ctx.Request.MaxBodySize = 10);
            ctx.Response.Text(DigestOf(all.ToArray()));
        };
        using var http = new InMemoryHttp(app, new HttpServerOptions { MaxRequestBodySize = 1000 });
        http.Run(() => http.SendAsync(Concat(Ascii(Head("POST", "/", $"Content-Length: {body.Length}\r\n")), body)));
        Assert.Equal(DigestOf(body), Text(Assert.Single(Responses(http))));
        Assert.IsType<InvalidOperationException>(late);
    }

    [Fact]
    public void OneHundredContinueIsSentWhenTheHandlerFirstReadsTheBodyAndOnlyThen()
    {
        var reading = new TaskCompletionSource();
        RequestHandler app = async ctx =>
        {
            await reading.Task;
            await Digest(ctx);
        };
        using var http = new InMemoryHttp(app);
        http.Run(async () =>
        {
            await http.SendAsync(Ascii(Head("POST", "/", "Content-Length: 5\r\nExpect: 100-continue\r\n")));
            Assert.Empty(http.Output); // the handler has not asked yet
            reading.SetResult();
            await http.SettleAsync();
            Assert.Equal("HTTP/1.1 100 Continue\r\n\r\n", http.OutputText);
            await http.SendAsync(Ascii("hello" + Head("GET", "/again")));
        });
        Assert.StartsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK", http.OutputText);
        List<Response> responses = Response.ParseAll(http.Output[25..], out _);
        Assert.Equal(2, responses.Count); // keep-alive goes on after the 100-continue exchange
        Assert.Equal(DigestOf("hello"u8.ToArray()), Text(responses[0]));
    }

    [Fact]
    public void OneHundredContinueIsSentEvenWhenTheBodyHasAlreadyArrivedSoTheAnswerDoesNotDependOnTheSplit()
    {
        using var http = new InMemoryHttp(Digest);
        http.Run(() => http.SendAsync(Ascii(Head("POST", "/", "Content-Length: 5\r\nExpect: 100-continue\r\n") + "hello")));
        Assert.StartsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK", http.OutputText);
        Assert.Equal(DigestOf("hello"u8.ToArray()), Text(Assert.Single(Response.ParseAll(http.Output[25..], out _))));
    }

    [Fact]
    public void AHandlerThatAnswersWithoutReadingSendsNoContinueAndTheConnectionCloses()
    {
        using var http = new InMemoryHttp(ctx =>
        {
            ctx.Response.StatusCode = 403;
            ctx.Response.Text("no");
            return default;
        });
        http.Run(() => http.SendAsync(Ascii(Head("POST", "/", "Content-Length: 100000\r\nExpect: 100-continue\r\n"))));
        Response response = Assert.Single(Responses(http));
        Assert.Equal(403, response.Status);
        Assert.True(response.CloseConnection, "the client never got its 100: it will not send the body, so the connection cannot go on");
        Assert.DoesNotContain("100 Continue", http.OutputText);
        Assert.True(http.Transport.ServerEnded);
    }

    [Fact]
    public void ABodyTheHandlerLeftUnreadIsDroppedAndTheNextRequestIsAnswered()
    {
        int calls = 0;
        using var http = new InMemoryHttp(ctx =>
        {
            ctx.Response.Text($"answer {++calls}");
            return default;
        });
        http.Run(async () =>
        {
            await http.SendAsync(Ascii(Head("POST", "/", "Content-Length: 100000\r\n")));
            await http.SendAsync(new byte[60000]);
            await http.SendAsync(Concat(new byte[40000], Ascii(Head("POST", "/", "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n")));
            await http.SendAsync(Ascii("0\r\n\r\n" + Head("GET", "/")));
        });
        List<Response> responses = Responses(http);
        Assert.Equal(["answer 1", "answer 2", "answer 3"], responses.Select(Text));
        Assert.All(responses, r => Assert.False(r.CloseConnection));
        Assert.False(http.Transport.ServerEnded);
    }

    [Fact]
    public void AnUnreadBodyTooLargeToDropEndsTheConnectionAfterTheResponse()
    {
        using var http = new InMemoryHttp(ctx =>
        {
            ctx.Response.Text("not found");
            return default;
        });
        http.Run(() => http.SendAsync(Ascii(Head("POST", "/", "Content-Length: 2000000\r\n") + "abc")));
        Assert.Equal("not found", Text(Assert.Single(Responses(http))));
        Assert.True(http.Transport.ServerEnded);
    }

    [Fact]
    public void DroppingAnUnreadBodyIsBoundedInTime()
    {
        using var http = new InMemoryHttp(ctx =>
        {
            ctx.Response.Text("quick");
            return default;
        });
        http.Run(async () =>
        {
            await http.SendAsync(Ascii(Head("POST", "/", "Content-Length: 1000\r\n") + "abc"));
            await http.AdvanceAsync(TimeSpan.FromSeconds(4));
            Assert.False(http.Transport.ServerEnded);
            await http.AdvanceAsync(TimeSpan.FromSeconds(3)); // past the 5 s drain timeout (and the heartbeat's second)
        });
        Assert.Equal("quick", Text(Assert.Single(Responses(http))));
        Assert.True(http.Transport.ServerEnded);
    }

    [Fact]
    public void TheClientEndingTheConnectionMidBodyIsA400ForTheHandler()
    {
        using var http = new InMemoryHttp(Digest);
        http.Run(async () =>
        {
            await http.SendAsync(Ascii(Head("POST", "/", "Content-Length: 10\r\n") + "abc"));
            await http.SendEofAsync();
        });
        Response response = Assert.Single(Responses(http));
        Assert.Equal(400, response.Status);
        Assert.True(http.Transport.ServerEnded);
        Assert.Empty(http.Errors);
    }

    [Fact]
    public void ABodyTricklingBelowTheMinimumRateIs408()
    {
        var options = new HttpServerOptions { MinRequestBodyDataRate = 1000, MinRequestBodyDataRateGracePeriod = TimeSpan.FromSeconds(2) };
        using var http = new InMemoryHttp(Digest, options);
        http.Run(async () =>
        {
            await http.SendAsync(Ascii(Head("POST", "/", "Content-Length: 100000\r\n") + "abc"));
            for (int second = 0; second < 5 && !http.Transport.ServerEnded; second++)
            {
                await http.SendAsync(Ascii("x")); // 1 B/s
                await http.AdvanceAsync(TimeSpan.FromSeconds(1));
            }
        });
        Response response = Assert.Single(Responses(http));
        Assert.Equal(408, response.Status);
        Assert.True(http.Transport.ServerEnded);
    }

    [Fact]
    public void ABodyTheServerHoldsBackIsNotTimedAgainstTheClient()
    {
        var release = new TaskCompletionSource();
        RequestHandler app = async ctx =>
        {
            byte[] first = new byte[10];
            Assert.Equal(10, await ctx.Request.Body.ReadAsync(first)); // starts the rate clock
            await release.Task;                      // then holds the body back for a minute
            await Digest(ctx);
        };
        var options = new HttpServerOptions { MinRequestBodyDataRate = 1000, MinRequestBodyDataRateGracePeriod = TimeSpan.FromSeconds(2) };
        using var http = new InMemoryHttp(app, options);
        byte[] body = new byte[200_000];
        http.Run(async () =>
        {
            await http.SendAsync(Concat(Ascii(Head("POST", "/", $"Content-Length: {body.Length}\r\n")), body));
            Assert.False(http.Transport.IsReading); // 64 KiB wait: the server stopped reading
            for (int second = 0; second < 60; second++)
            {
                await http.AdvanceAsync(TimeSpan.FromSeconds(1));
            }
            Assert.False(http.Transport.ServerEnded);
            release.SetResult();
        });
        Assert.Equal(200, Assert.Single(Responses(http)).Status);
    }

    [Fact]
    public void TheBodyIsAStreamForBclReaders()
    {
        using var http = new InMemoryHttp(async ctx =>
        {
            using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
            string first = (await reader.ReadLineAsync())!;
            JsonElement json = await JsonSerializer.DeserializeAsync(new MemoryStream(Encoding.UTF8.GetBytes(await reader.ReadToEndAsync())), UnitTestJson.Default.JsonElement);
            ctx.Response.Text(first + "|" + json.GetProperty("n").GetInt32());
        });
        http.Run(async () =>
        {
            await http.SendAsync(Ascii(Head("PUT", "/", "Transfer-Encoding: chunked\r\n") + "6\r\nhello\n\r\n"));
            await http.SendAsync(Ascii("8\r\n{\"n\": 42\r\n1\r\n}\r\n0\r\n\r\n"));
        });
        Assert.Equal("hello|42", Text(Assert.Single(Responses(http))));
    }

    [Fact]
    public void ASynchronousReadThatWouldWaitIsRefused()
    {
        Exception? refused = null;
        using var http = new InMemoryHttp(async ctx =>
        {
            refused = Record.Exception(() => ctx.Request.Body.Read(new byte[10], 0, 10));
            await Digest(ctx);
        });
        http.Run(async () =>
        {
            await http.SendAsync(Ascii(Head("POST", "/", "Content-Length: 3\r\n")));
            await http.SendAsync(Ascii("abc"));
        });
        Assert.IsType<InvalidOperationException>(refused);
        Assert.Equal(DigestOf("abc"u8.ToArray()), Text(Assert.Single(Responses(http))));
    }

    [Fact]
    public void AWaitingReadCanBeCancelled()
    {
        using var cancel = new CancellationTokenSource();
        using var http = new InMemoryHttp(async ctx =>
        {
            try
            {
                _ = await ctx.Request.Body.ReadAsync(new byte[10], cancel.Token);
            }
            catch (OperationCanceledException)
            {
                ctx.Response.Text("cancelled");
            }
        });
        http.Run(async () =>
        {
            await http.SendAsync(Ascii(Head("POST", "/", "Content-Length: 3\r\n")));
            cancel.Cancel();
            await http.SettleAsync();
        });
        Assert.Equal("cancelled", Text(Assert.Single(Responses(http))));
    }

    [Fact]
    public void TrailersAreThereOnceTheBodyHasBeenRead()
    {
        using var http = new InMemoryHttp(async ctx =>
        {
            ReadOnlyMemory<byte> body = await ctx.Request.ReadBodyAsync();
            ctx.Response.Text(Encoding.ASCII.GetString(body.Span) + "|" + ctx.Request.Trailers["Checksum"]);
        });
        http.Run(() => http.SendAsync(Ascii(Head("POST", "/", "Transfer-Encoding: chunked\r\n") + "3\r\nabc\r\n0\r\nChecksum: 42\r\n\r\n")));
        Assert.Equal("abc|42", Text(Assert.Single(Responses(http))));
    }

    [Fact]
    public void AHandlerFailingMidResponseKeepsTheEarlierAnswersAndEndsTheConnection()
    {
        RequestHandler app = new WebApp()
            .MapGet("/ok", ctx => ctx.Response.Text("ok"))
            .MapGet("/broken", async ctx =>
            {
                ctx.Response.BeginBody(100, "text/plain");
                await ctx.Response.WriteAsync(Ascii("partial"));
                throw new InvalidOperationException("boom");
            })
            .Build();
        using var http = new InMemoryHttp(app);
        http.Run(() => http.SendAsync(Ascii(Head("GET", "/ok") + Head("GET", "/broken") + Head("GET", "/ok"))));
        Assert.StartsWith("HTTP/1.1 200 OK", http.OutputText);
        List<Response> whole = Response.ParseAll(http.Output, out int rest);
        Assert.Equal("ok", Text(Assert.Single(whole)));
        Assert.True(rest > 0, "the broken response's head went out; it must end short, not be replaced:\n" + http.OutputText);
        Assert.True(http.Transport.ServerEnded, http.OutputText + string.Join("\n", http.Errors));
        Assert.IsType<InvalidOperationException>(Assert.Single(http.Errors));
    }
}

[JsonSerializable(typeof(JsonElement))]
internal sealed partial class UnitTestJson : JsonSerializerContext;
