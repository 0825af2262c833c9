using System.Net.WebSockets;
using System.Text;
using CsCheck;
using Eddy.Fuzz;
using Eddy.Http;
using Eddy.Web;
using Eddy.WebSockets;
using static Eddy.UnitTests.WebSockets.WebSocketCodecSupport;

namespace Eddy.UnitTests.WebSockets;

/// <summary>
/// A whole WebSocket connection in memory — the HTTP connection, the upgrade, the WebSocket on the loop — on a
/// manual clock: keep-alive pings and the dead-peer timeout, the close handshake and its timeout, failing on a
/// protocol error, back-pressure both ways, and output that does not depend on how the input was cut into reads.
/// </summary>
public sealed class WebSocketConnectionTests
{
    private static readonly byte[] s_handshake = Encoding.ASCII.GetBytes(
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");

    private static RequestHandler App(WebSocketHandler handler, WebSocketOptions? options = null) =>
        new WebApp().MapWebSocket("/ws", handler, options).Build();

    private static async ValueTask Echo(HttpContext context, WebSocketConnection webSocket)
    {
        var buffer = new byte[100];
        while (true)
        {
            ValueWebSocketReceiveResult received = await webSocket.ReceiveAsync(buffer);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
            await webSocket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage);
        }
    }

    /// <summary>What the server sent after its 101, as a client decodes it.</summary>
    private static List<string> ServerFrames(InMemoryHttp http)
    {
        byte[] output = http.Output;
        int head = http.OutputText.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        Assert.StartsWith("HTTP/1.1 101 ", http.OutputText);
        return DecodeAll(output[head..]);
    }

    /// <summary>A client's decode of server frames, through closes (Decode stops at one).</summary>
    private static List<string> DecodeAll(byte[] frames) => Decode(frames, isServer: false);

    [Fact]
    public void MessagesAreEchoedAndThePeersCloseIsAnsweredThenTheConnectionCloses()
    {
        using var http = new InMemoryHttp(App(Echo));
        http.Run(async () =>
        {
            await http.SendAsync(s_handshake);
            await http.SendAsync(Concat(Text("hello"), Frame(0x2, [1, 2, 3]), Frame(0x9, "are you there"u8)));
            await http.SendAsync(Close(1000, "done"));
        });
        Assert.Equal(["text:hello", "binary:010203", "pong:are you there", "close:1000:"], ServerFrames(http));
        Assert.True(http.Transport.IsClosed);
        Assert.Empty(http.Errors);
    }

    [Fact]
    public void MessagesPipelinedInOneReadAreAnsweredWithOneWriteAndACloseBehindThemComesLast()
    {
        using var http = new InMemoryHttp(App(Echo));
        int writesBefore = 0;
        http.Run(async () =>
        {
            await http.SendAsync(s_handshake);
            writesBefore = http.Transport.Writes;
            await http.SendAsync(Concat(Text("one"), Text("two"), Frame(0x9, "ping"u8), Frame(0x2, [1, 2, 3]), Text("three")));
            Assert.Equal(writesBefore + 1, http.Transport.Writes); // four echoes and a pong: one write
            await http.SendAsync(Concat(Text("four"), Close(1000, "done")));
        });
        Assert.Equal(writesBefore + 2, http.Transport.Writes); // the echo and our close answer together, before the close
        Assert.Equal(["text:one", "text:two", "pong:ping", "binary:010203", "text:three", "text:four", "close:1000:"], ServerFrames(http));
        Assert.True(http.Transport.IsClosed);
        Assert.Empty(http.Errors);
    }

    /// <summary>The messages and control frames the server sends back, and whether it closed, are the same however the input was cut.</summary>
    [Fact]
    public void TheOutputDoesNotDependOnHowTheInputWasCutIntoReads()
    {
        Gen<byte[]> frame = Gen.OneOf(
            Gen.String[0, 150].Select(s => Text(s)),
            Gen.Byte.Array[0, 300].Select(b => Frame(0x2, b)),
            Gen.Byte.Array[0, 125].Select(b => Frame(0x9, b)),
            Gen.Select(Gen.String[1, 40], Gen.String[0, 40], (a, b) => Concat(Text(a, fin: false), Frame(0x9, "x"u8), Frame(0x0, Encoding.UTF8.GetBytes(b)))));
        Gen<byte[]> end = Gen.OneOf(Gen.Const(Close(1000, "bye")), Gen.Const(Frame(0x1, [0xC0, 0xAF])), Gen.Const(Frame(0x3, [])), Gen.Byte.Array[0, 10]);
        Gen.Select(frame.Array[1, 6], end, Gen.Int[1, 60].Array[1, 6]).Sample((frames, tail, pieces) =>
        {
            byte[] stream = Concat([s_handshake, .. frames, tail]);
            string whole = Serve(stream, [stream.Length]);
            string split = Serve(stream, pieces);
            Assert.True(whole == split, $"whole:\n{whole}\nsplit ({string.Join(",", pieces)}):\n{split}\nstream: {Convert.ToHexString(stream[s_handshake.Length..])}");
        }, iter: 1000);
    }

    private static string Serve(byte[] stream, int[] pieces)
    {
        using var http = new InMemoryHttp(App(Echo));
        http.Run(async () =>
        {
            for (int offset = 0, i = 0; offset < stream.Length; i++)
            {
                int n = Math.Min(pieces[i % pieces.Length], stream.Length - offset);
                await http.SendAsync(stream.AsMemory(offset, n));
                offset += n;
            }
            await http.SendEofAsync();
        });
        // Messages, not frames: the echo sends each piece as it receives it, and the pieces follow the reads.
        return string.Join("\n", ServerFrames(http)) + (http.Transport.IsClosed ? "\nclosed" : "\nopen");
    }

    [Fact]
    public void AProtocolErrorFailsTheConnectionWithItsCodeThenLingersUntilThePeersEof()
    {
        using var http = new InMemoryHttp(App(Echo));
        http.Run(async () =>
        {
            await http.SendAsync(s_handshake);
            await http.SendAsync(Concat(Text("ok"), Frame(0x1, "bad"u8, rsv: 2), Text("never")));
            Assert.True(http.Transport.WroteEof);   // our close frame, then FIN
            Assert.False(http.Transport.IsClosed);  // reading on, so the peer's unread bytes do not reset our close away
            await http.SendAsync(Text("dropped"));
            await http.SendEofAsync();
        });
        Assert.Equal(["text:ok", "close:1002:A reserved bit is set, and no extension was negotiated that defines it."], ServerFrames(http));
        Assert.True(http.Transport.IsClosed);
        Assert.Empty(http.Errors); // the peer's error is not the server's bug
    }

    [Fact]
    public void InvalidUtf8FailsWith1007()
    {
        using var http = new InMemoryHttp(App(Echo));
        http.Run(async () =>
        {
            await http.SendAsync(s_handshake);
            await http.SendAsync(Frame(0x1, [0x68, 0x69, 0xED, 0xA0, 0x80]));
            await http.SendEofAsync();
        });
        Assert.Equal("close:1007", string.Join(":", ServerFrames(http).Last().Split(':')[..2]));
    }

    [Fact]
    public void KeepAlivePingsGoOutWhenThePeerIsQuietAndAnAnsweredOneKeepsTheConnection()
    {
        var options = new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(10), KeepAliveTimeout = TimeSpan.FromSeconds(5) };
        using var http = new InMemoryHttp(App(Echo, options));
        http.Run(async () =>
        {
            await http.SendAsync(s_handshake);
            await http.AdvanceAsync(TimeSpan.FromSeconds(8));
            Assert.Empty(ServerFrames(http));
            await http.AdvanceAsync(TimeSpan.FromSeconds(3));
            List<string> frames = ServerFrames(http);
            Assert.Single(frames);
            Assert.StartsWith("ping:", frames[0]);
            await http.SendAsync(Frame(0xA, Encoding.Latin1.GetBytes(frames[0]["ping:".Length..])));
            await http.AdvanceAsync(TimeSpan.FromSeconds(7));
            Assert.False(http.Transport.IsClosing);
        });
    }

    [Fact]
    public void APingLeftUnansweredClosesTheDeadPeerWith1011AndAborts()
    {
        var options = new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(10), KeepAliveTimeout = TimeSpan.FromSeconds(5) };
        WebSocketException? failure = null;
        using var http = new InMemoryHttp(App(async (ctx, ws) =>
        {
            failure = await Assert.ThrowsAsync<WebSocketException>(async () => await ws.ReceiveAsync(new byte[10]));
        }, options));
        http.Run(async () =>
        {
            await http.SendAsync(s_handshake);
            await http.AdvanceAsync(TimeSpan.FromSeconds(11)); // the ping
            await http.AdvanceAsync(TimeSpan.FromSeconds(4));
            Assert.False(http.Transport.IsClosing);
            await http.AdvanceAsync(TimeSpan.FromSeconds(2));  // past the timeout
        });
        Assert.True(http.Transport.WasAborted);
        Assert.Equal(WebSocketError.ConnectionClosedPrematurely, failure!.WebSocketErrorCode);
        Assert.Equal("close:1011:keepalive ping timeout", ServerFrames(http).Last());
    }

    [Fact]
    public void CloseAsyncWaitsForThePeersCloseAndAbortsAfterTheCloseTimeout()
    {
        var options = new WebSocketOptions { CloseTimeout = TimeSpan.FromSeconds(3) };
        Task? close = null;
        using var http = new InMemoryHttp(App((ctx, ws) =>
        {
            close = ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "server done").AsTask();
            return new ValueTask(close);
        }, options));
        http.Run(async () =>
        {
            await http.SendAsync(s_handshake);
            Assert.Equal(["close:1000:server done"], ServerFrames(http));
            await http.SendAsync(Text("data the server drops while it waits for the close"));
            Assert.False(close!.IsCompleted);
            await http.AdvanceAsync(TimeSpan.FromSeconds(5));
        });
        Assert.True(close!.IsCompletedSuccessfully);
        Assert.True(http.Transport.WasAborted);
    }

    [Fact]
    public void WhenThePeerAnswersTheCloseTheHandshakeCompletesAndTheServerClosesFirst()
    {
        WebSocketCloseStatus? seen = null;
        using var http = new InMemoryHttp(App(async (ctx, ws) =>
        {
            await ws.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "bye");
            seen = ws.CloseStatus;
        }));
        http.Run(async () =>
        {
            await http.SendAsync(s_handshake);
            await http.SendAsync(Concat(Text("dropped"), Close(1001)));
        });
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, seen);
        Assert.True(http.Transport.IsClosed);
        Assert.False(http.Transport.WasAborted);
        Assert.Equal(["close:1001:bye"], ServerFrames(http));
    }

    [Fact]
    public void AHandlerThatReturnsClosesWith1000AndOneThatThrowsWith1011AndIsLogged()
    {
        using (var http = new InMemoryHttp(App((ctx, ws) => default)))
        {
            http.Run(async () => await http.SendAsync(s_handshake));
            Assert.Equal(["close:1000:"], ServerFrames(http));
            Assert.Empty(http.Errors);
        }
        using (var http = new InMemoryHttp(App((ctx, ws) => throw new InvalidOperationException("handler bug"))))
        {
            http.Run(async () => await http.SendAsync(s_handshake));
            Assert.Equal(["close:1011:"], ServerFrames(http));
            Assert.Equal("handler bug", Assert.Single(http.Errors).Message);
        }
    }

    [Fact]
    public void AnIdleConnectionIsClosedAfterTheIdleTimeout()
    {
        var options = new WebSocketOptions { IdleTimeout = TimeSpan.FromSeconds(20), KeepAliveInterval = TimeSpan.Zero };
        using var http = new InMemoryHttp(App(Echo, options));
        http.Run(async () =>
        {
            await http.SendAsync(s_handshake);
            await http.AdvanceAsync(TimeSpan.FromSeconds(15));
            await http.SendAsync(Text("activity"));
            await http.AdvanceAsync(TimeSpan.FromSeconds(15));
            Assert.Equal(["text:activity"], ServerFrames(http));
            await http.AdvanceAsync(TimeSpan.FromSeconds(7));
        });
        Assert.Equal(["text:activity", "close:1001:idle timeout"], ServerFrames(http));
    }

    [Fact]
    public void ASlowReaderPausesTheTransportAndReceivingResumesIt()
    {
        var go = new TaskCompletionSource();
        var received = new MemoryStream();
        using var http = new InMemoryHttp(App(async (ctx, ws) =>
        {
            await go.Task;
            var buffer = new byte[4096];
            while (true)
            {
                ValueWebSocketReceiveResult r = await ws.ReceiveAsync(buffer);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                received.Write(buffer, 0, r.Count);
            }
        }, new WebSocketOptions { MaxReceiveBufferSize = 16 * 1024, MaxMessageSize = null }));
        byte[] payload = new byte[10_000];
        byte[] frames = Concat([.. Enumerable.Repeat(Frame(0x2, payload), 20), Close(1000)]);
        http.Run(async () =>
        {
            await http.SendAsync(s_handshake);
            for (int offset = 0; offset < frames.Length; offset += 8192)
            {
                await http.SendAsync(frames.AsMemory(offset, Math.Min(8192, frames.Length - offset)));
            }
            Assert.True(http.Transport.ReadPauses > 0);
            Assert.True(http.Transport.Delivered < 16 * 1024 + 2 * 8192, $"{http.Transport.Delivered} bytes taken from the socket by a handler that reads none");
            go.SetResult();
            await http.SettleAsync();
        });
        Assert.Equal(20 * payload.Length, received.Length);
        Assert.True(http.Transport.IsClosed);
    }

    [Fact]
    public void ASendWaitsWhileThePeerDoesNotReadAndGoesOnWhenItDoes()
    {
        Task? send = null;
        using var http = new InMemoryHttp(App(async (ctx, ws) =>
        {
            send = ws.SendBinaryAsync(new byte[100_000]).AsTask();
            await send;
            await ws.SendTextAsync("after");
        }));
        http.Run(async () =>
        {
            http.Transport.PeerReads = false;
            await http.SendAsync(s_handshake);
            Assert.False(send!.IsCompleted);
            http.Transport.PeerReads = true;
            http.Transport.PeerReadsAll();
            await http.SettleAsync();
            Assert.True(send.IsCompletedSuccessfully);
            await http.SendAsync(Close(1000));
        });
        List<string> frames = ServerFrames(http);
        Assert.Equal("text:after", frames[1]);
    }

    [Theory]
    [InlineData("Origin: https://good.test\r\n", "HTTP/1.1 101 ")]
    [InlineData("", "HTTP/1.1 101 ")]
    [InlineData("Origin: https://evil.test\r\n", "HTTP/1.1 403 ")]
    [InlineData("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "HTTP/1.1 400 ")] // a second key
    public void TheOriginHookDecidesAndARepeatedKeyIsRefused(string extraField, string answer)
    {
        var options = new WebSocketOptions { OriginCheck = origin => origin is null or "https://good.test" };
        bool ran = false;
        using var http = new InMemoryHttp(App((ctx, ws) =>
        {
            ran = true;
            return default;
        }, options));
        string request = Encoding.ASCII.GetString(s_handshake).Replace("\r\n\r\n", "\r\n" + extraField + "\r\n", StringComparison.Ordinal);
        http.Run(async () => await http.SendAsync(Encoding.ASCII.GetBytes(request)));
        Assert.StartsWith(answer, http.OutputText);
        Assert.Equal(answer == "HTTP/1.1 101 ", ran);
    }

    [Fact]
    public void AZeroByteReceiveWaitsForAMessageAndTakesNoneOfIt()
    {
        var log = new List<string>();
        using var http = new InMemoryHttp(App(async (ctx, ws) =>
        {
            for (int i = 0; i < 3; i++)
            {
                ValueWebSocketReceiveResult next = await ws.ReceiveAsync(Memory<byte>.Empty);
                log.Add($"wait: {next.Count} {next.MessageType} {next.EndOfMessage}");
                if (next.MessageType == WebSocketMessageType.Close || next.EndOfMessage)
                {
                    continue;
                }
                var buffer = new byte[16];
                ValueWebSocketReceiveResult received = await ws.ReceiveAsync(buffer);
                log.Add($"read: {Encoding.UTF8.GetString(buffer, 0, received.Count)} {received.EndOfMessage}");
            }
        }));
        http.Run(async () =>
        {
            await http.SendAsync(s_handshake);
            Assert.Empty(log);
            await http.SendAsync(Concat(Text("hello"), Frame(0x2, [])));
            await http.SendAsync(Close(1000));
        });
        Assert.Equal(["wait: 0 Text False", "read: hello True", "wait: 0 Binary True", "wait: 0 Close True"], log);
    }

    [Fact]
    public void TheBclViewReceivesSendsAndClosesAsItsContractSays()
    {
        var log = new List<string>();
        using var http = new InMemoryHttp(App(async (ctx, ws) =>
        {
            WebSocket socket = ws.AsWebSocket();
            var buffer = new byte[16];
            WebSocketReceiveResult first = await socket.ReceiveAsync(new ArraySegment<byte>(buffer), CancellationToken.None);
            log.Add($"{first.MessageType} {first.Count} {first.EndOfMessage} {Encoding.UTF8.GetString(buffer, 0, first.Count)}");
            await socket.SendAsync(new ArraySegment<byte>(buffer, 0, first.Count), WebSocketMessageType.Binary, true, CancellationToken.None);
            WebSocketReceiveResult close = await socket.ReceiveAsync(new ArraySegment<byte>(buffer), CancellationToken.None);
            log.Add($"{close.MessageType} {close.CloseStatus} {close.CloseStatusDescription} {socket.State}");
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        }));
        http.Run(async () =>
        {
            await http.SendAsync(s_handshake);
            await http.SendAsync(Concat(Text("hi"), Close(4001, "app")));
        });
        Assert.Equal(["Text 2 True hi", "Close 4001 app Closed"], log);
        Assert.Equal(["binary:" + Convert.ToHexString("hi"u8), "close:4001:"], ServerFrames(http));
    }
}
