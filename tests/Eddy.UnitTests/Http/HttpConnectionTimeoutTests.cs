using System.Text;
using Eddy.Fuzz;
using Eddy.Http;
using Response = Eddy.UnitTests.Http.HttpConnectionSplitTests.Response;

namespace Eddy.UnitTests.Http;

/// <summary>
/// The connection's timeouts on the loop's clock, moved by hand: a slow head is 408 and closed, trickling
/// does not reset its clock, an idle keep-alive connection closes quietly, and a connection holding the
/// client back is not cut for it. No test waits for real time.
/// </summary>
public sealed class HttpConnectionTimeoutTests
{
    private static readonly HttpServerOptions Options = new()
    {
        RequestHeadersTimeout = TimeSpan.FromSeconds(10),
        KeepAliveTimeout = TimeSpan.FromSeconds(30),
    };

    private static ValueTask Hello(HttpContext ctx)
    {
        ctx.Response.Text("Hello");
        return default;
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    [Fact]
    public void AHeadThatDoesNotArriveInTimeIs408AndClosed()
    {
        using var http = new InMemoryHttp(Hello, Options);
        http.Run(async () =>
        {
            await http.SendAsync(Ascii("GET / HTTP/1.1\r\nHost: x\r\n"));
            await http.AdvanceAsync(TimeSpan.FromSeconds(9));
            Assert.Empty(http.Output);
            await http.AdvanceAsync(TimeSpan.FromSeconds(3)); // past 10 s and the heartbeat's second
        });
        Assert.StartsWith("HTTP/1.1 408 ", http.OutputText);
        Assert.True(http.Transport.ServerEnded);
    }

    [Fact]
    public void AfterAnErrorTheCloseLingersUntilTheClientsEof()
    {
        using var http = new InMemoryHttp(Hello, Options);
        http.Run(async () =>
        {
            await http.SendAsync(Ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\nBAD REQUEST\r\n\r\n"));
            Assert.True(http.Transport.WroteEof); // the answers, then FIN
            Assert.False(http.Transport.IsClosed); // not closed: unread bytes would turn the close into a reset
            int answered = http.Output.Length;
            await http.SendAsync(Ascii("more bytes the client had in flight"));
            Assert.Equal(answered, http.Output.Length); // dropped, unanswered
            await http.SendEofAsync();
            await http.SettleAsync();
        });
        Assert.Equal([200, 400], Response.ParseAll(http.Output, out _).Select(r => r.Status));
        Assert.True(http.Transport.IsClosed);
        Assert.False(http.Transport.WasAborted);
    }

    [Fact]
    public void ALingeringCloseEndsAfterItsTimeoutWithoutTheClientsEof()
    {
        using var http = new InMemoryHttp(Hello, Options);
        http.Run(async () =>
        {
            await http.SendAsync(Ascii("BAD REQUEST\r\n\r\n"));
            await http.AdvanceAsync(TimeSpan.FromSeconds(4));
            Assert.False(http.Transport.IsClosed);
            await http.AdvanceAsync(TimeSpan.FromSeconds(3)); // past the 5 s linger and the heartbeat's second
        });
        Assert.StartsWith("HTTP/1.1 400 ", http.OutputText);
        Assert.True(http.Transport.IsClosed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\r\n")] // the trickled head follows a complete request in the same read
    public void TricklingAHeadDoesNotResetItsClock(string before)
    {
        using var http = new InMemoryHttp(Hello, Options);
        http.Run(async () =>
        {
            await http.SendAsync(Ascii(before + "G"));
            foreach (byte b in "ET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaa"u8.ToArray())
            {
                await http.SendAsync(new[] { b });
                await http.AdvanceAsync(TimeSpan.FromSeconds(1)); // each byte well within 10 s; the head never is
                if (http.Transport.ServerEnded)
                {
                    break;
                }
            }
        });
        List<Response> responses = Response.ParseAll(http.Output, out _);
        Assert.Equal(408, responses[^1].Status);
        Assert.Equal(before.Length > 0 ? 2 : 1, responses.Count);
        Assert.True(http.Transport.ServerEnded);
    }

    [Fact]
    public void AnIdleKeepAliveConnectionClosesQuietly()
    {
        using var http = new InMemoryHttp(Hello, Options);
        http.Run(async () =>
        {
            await http.SendAsync(Ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
            await http.AdvanceAsync(TimeSpan.FromSeconds(29));
            Assert.False(http.Transport.ServerEnded);
            await http.SendAsync(Ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); // a request restarts the idle clock
            await http.AdvanceAsync(TimeSpan.FromSeconds(29));
            Assert.False(http.Transport.ServerEnded);
            await http.AdvanceAsync(TimeSpan.FromSeconds(3));
        });
        Assert.Equal(2, Response.ParseAll(http.Output, out int rest).Count); // the answers, and nothing for the timeout
        Assert.Equal(0, rest);
        Assert.True(http.Transport.ServerEnded);
    }

    [Fact]
    public void AClientThatDoesNotReadItsAnswersIsNotTimedForTheRequestsHeldBack()
    {
        using var http = new InMemoryHttp(ctx =>
        {
            ctx.Response.Bytes(new byte[40_000]);
            return default;
        }, new HttpServerOptions { RequestHeadersTimeout = TimeSpan.FromSeconds(10), MinResponseDataRate = 0 });
        http.Transport.PeerReads = false;
        http.Run(async () =>
        {
            await http.SendAsync(Ascii(string.Concat(Enumerable.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 10))));
            await http.AdvanceAsync(TimeSpan.FromSeconds(60)); // the held requests' heads are complete: no 408 for them
            Assert.False(http.Transport.ServerEnded);
            http.Transport.PeerReads = true; // from now on it reads everything at once
            http.Transport.PeerReadsAll();
        });
        Assert.Equal(10, Response.ParseAll(http.Output, out _).Count(r => r.Status == 200));
    }

    [Fact]
    public void AClientReadingSlowerThanTheMinimumResponseRateIsCut()
    {
        using var http = new InMemoryHttp(ctx =>
        {
            ctx.Response.Bytes(new byte[1_000_000]);
            return default;
        });
        http.Transport.PeerReads = false;
        http.Run(async () =>
        {
            await http.SendAsync(Ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
            for (int second = 0; second < 12 && !http.Transport.ServerEnded; second++)
            {
                await http.AdvanceAsync(TimeSpan.FromSeconds(1));
            }
        });
        Assert.True(http.Transport.WasAborted);
    }
}
