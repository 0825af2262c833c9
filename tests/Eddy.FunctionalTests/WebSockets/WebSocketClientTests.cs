using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Eddy.Cli.Serve;
using Eddy.FunctionalTests.Http;
using Eddy.FunctionalTests.Tls;
using Eddy.Loop;
using Eddy.Web;
using Eddy.WebSockets;

namespace Eddy.FunctionalTests.WebSockets;

/// <summary>
/// Eddy's WebSocket client (<c>loop.ConnectWebSocketAsync</c>) against Eddy's own server (<c>/ws/echo</c> of
/// <c>eddy serve</c>, ws:// and wss://) and against <see cref="ScriptedWebSocketServer"/> for what a correct server
/// never sends: every handshake failure, masked frames, and frames split at every byte.
/// </summary>
public sealed class WebSocketClientTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    /// <summary>Runs <paramref name="body"/> on a fresh client loop on this thread, bounded.</summary>
    private static void OnClientLoop(Func<EventLoop, Task> body)
    {
        using var loop = new EventLoop();
        loop.Run(() => body(loop).WaitAsync(s_timeout));
    }

    private static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveMessageAsync(WebSocketConnection socket)
    {
        var payload = new MemoryStream();
        var buffer = new byte[7000]; // not a power of two: messages arrive in several receives
        while (true)
        {
            ValueWebSocketReceiveResult result = await socket.ReceiveAsync(buffer);
            payload.Write(buffer, 0, result.Count);
            if (result.EndOfMessage || result.MessageType == WebSocketMessageType.Close)
            {
                return (result.MessageType, payload.ToArray());
            }
        }
    }

    private static void AssertMessage(WebSocketMessageType type, byte[] payload, (WebSocketMessageType Type, byte[] Payload) received)
    {
        Assert.Equal(type, received.Type);
        Assert.Equal(payload, received.Payload);
    }

    private static WebSocketClientOptions Quiet() => new() { Connection = new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero, MaxMessageSize = 16 * 1024 * 1024 } };

    [Fact]
    public void EveryKindOfMessageComesBackFromTheEchoServer()
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        OnClientLoop(async loop =>
        {
            WebSocketConnection ws = await loop.ConnectWebSocketAsync(new Uri($"ws://{server.EndPoint}/ws/echo"), Quiet());
            Assert.Null(ws.SubProtocol);
            Assert.Equal(WebSocketState.Open, ws.State);

            await ws.SendTextAsync("héllo, wörld 👋");
            (WebSocketMessageType type, byte[] payload) = await ReceiveMessageAsync(ws);
            Assert.Equal((WebSocketMessageType.Text, "héllo, wörld 👋"), (type, Encoding.UTF8.GetString(payload)));

            byte[] data = RandomNumberGenerator.GetBytes(1000);
            await ws.SendBinaryAsync(data);
            AssertMessage(WebSocketMessageType.Binary, data, await ReceiveMessageAsync(ws));

            await ws.SendBinaryAsync(ReadOnlyMemory<byte>.Empty);
            AssertMessage(WebSocketMessageType.Binary, [], await ReceiveMessageAsync(ws));

            // In pieces: each piece one frame, echoed piece by piece, received as one message.
            await ws.SendAsync("frag"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: false);
            await ws.SendAsync("men"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: false);
            await ws.SendAsync("ted"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true);
            (type, payload) = await ReceiveMessageAsync(ws);
            Assert.Equal((WebSocketMessageType.Text, "fragmented"), (type, Encoding.UTF8.GetString(payload)));

            // Larger than the send scratch buffer: masked through it a piece at a time.
            byte[] big = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 5);
            Task send = ws.SendBinaryAsync(big).AsTask();
            (type, payload) = await ReceiveMessageAsync(ws);
            await send;
            Assert.Equal(WebSocketMessageType.Binary, type);
            Assert.Equal(SHA256.HashData(big), SHA256.HashData(payload));

            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye");
            Assert.Equal(WebSocketState.Closed, ws.State);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
        });
    }

    [Theory]
    [InlineData(WebSocketCloseStatus.NormalClosure, "bye")]
    [InlineData((WebSocketCloseStatus)4000, "application code")]
    [InlineData(WebSocketCloseStatus.Empty, "")]
    public void TheClientsCloseIsAnsweredWithItsCode(WebSocketCloseStatus status, string reason)
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        OnClientLoop(async loop =>
        {
            WebSocketConnection ws = await loop.ConnectWebSocketAsync(new Uri($"ws://{server.EndPoint}/ws/echo"), Quiet());
            await ws.CloseAsync(status, reason);
            Assert.Equal(WebSocketState.Closed, ws.State);
            Assert.Equal(status, ws.CloseStatus);
        });
    }

    [Fact]
    public void TheServersCloseCodeAndReasonReachTheClient()
    {
        var app = new WebApp();
        app.MapWebSocket("/closer", static async (context, ws) => await ws.CloseAsync((WebSocketCloseStatus)4321, "server says bye"));
        using var server = new HttpTestServer(app);
        OnClientLoop(async loop =>
        {
            WebSocketConnection ws = await loop.ConnectWebSocketAsync(new Uri($"ws://{server.EndPoint}/closer"), Quiet());
            ValueWebSocketReceiveResult result = await ws.ReceiveAsync(new byte[16]);
            Assert.Equal(WebSocketMessageType.Close, result.MessageType);
            Assert.Equal((WebSocketCloseStatus)4321, ws.CloseStatus);
            Assert.Equal("server says bye", ws.CloseStatusDescription);
            Assert.Equal(WebSocketState.Closed, ws.State);
        });
    }

    [Fact]
    public void OfferedSubprotocolsAndExtraFieldsReachTheServer()
    {
        var app = new WebApp();
        app.MapWebSocket("/fields", static async (context, ws) =>
            await ws.SendTextAsync($"{context.Request.Headers["X-Token"]}|{context.Request.Headers["Origin"]}|{ws.SubProtocol}"),
            new WebSocketOptions { SubProtocols = ["v2", "v1"] });
        using var server = new HttpTestServer(app);
        OnClientLoop(async loop =>
        {
            WebSocketClientOptions options = Quiet();
            options.SubProtocols.Add("v1");
            options.SubProtocols.Add("v2");
            options.Headers.Add(new("X-Token", "s3cret"));
            options.Headers.Add(new("Origin", "https://example.test"));
            WebSocketConnection ws = await loop.ConnectWebSocketAsync(new Uri($"ws://{server.EndPoint}/fields?q=1"), options);
            Assert.Equal("v1", ws.SubProtocol); // the client's order decides at this server
            (_, byte[] payload) = await ReceiveMessageAsync(ws);
            Assert.Equal("s3cret|https://example.test|v1", Encoding.UTF8.GetString(payload));
        });
    }

    [Fact]
    public void WssWorksOverEddysTls()
    {
        var certificate = TlsTestCertificates.Create("localhost");
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder), tls: TlsTestCertificates.ServerOptions());
        OnClientLoop(async loop =>
        {
            WebSocketClientOptions options = Quiet();
            options.Tls = TlsTestCertificates.Trusting(certificate, "localhost");
            options.SubProtocols.Add("echo");
            WebSocketConnection ws = await loop.ConnectWebSocketAsync(new Uri($"wss://{server.EndPoint}/ws/echo"), options);
            Assert.Equal("echo", ws.SubProtocol);
            byte[] data = RandomNumberGenerator.GetBytes(200_000);
            Task send = ws.SendBinaryAsync(data).AsTask();
            AssertMessage(WebSocketMessageType.Binary, data, await ReceiveMessageAsync(ws));
            await send;
            await ws.CloseAsync();
            Assert.Equal(WebSocketState.Closed, ws.State);
        });
    }

    [Fact]
    public void TheBclViewWorksOnAClientConnection()
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        OnClientLoop(async loop =>
        {
            WebSocket ws = (await loop.ConnectWebSocketAsync(new Uri($"ws://{server.EndPoint}/ws/echo"), Quiet())).AsWebSocket();
            await ws.SendAsync("via the BCL"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[64];
            WebSocketReceiveResult result = await ws.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal("via the BCL", Encoding.UTF8.GetString(buffer, 0, result.Count));
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            Assert.Equal(WebSocketState.Closed, ws.State);
        });
    }

    [Fact]
    public void EveryFrameIsMaskedWithAFreshKeyAndAPingGetsItsPong()
    {
        var frames = new List<(int Opcode, bool Masked, byte[] Key, byte[] Payload)>();
        using var server = new ScriptedWebSocketServer(async c =>
        {
            c.Send(c.GoodAnswer());
            c.Send(ScriptedWebSocketServer.Frame(0x9, "are you there"u8.ToArray()));
            for (int i = 0; i < 4; i++)
            {
                var f = c.ReadFrame();
                frames.Add((f.Opcode, f.Masked, f.Key, f.Payload));
            }
            c.Send(ScriptedWebSocketServer.Frame(0x8, [0x03, 0xE8]));
            await Task.CompletedTask;
        });
        OnClientLoop(async loop =>
        {
            WebSocketConnection ws = await loop.ConnectWebSocketAsync(server.Url(), Quiet());
            await ws.SendTextAsync("one");
            await ws.SendTextAsync("two");
            await ws.SendBinaryAsync(new byte[300]);
            Assert.Equal(WebSocketMessageType.Close, (await ws.ReceiveAsync(new byte[8])).MessageType);
            Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
        });
        server.WaitForScript();
        // The pong goes out when the ping is decoded: before, between or after the messages.
        Assert.Equal("are you there", Encoding.UTF8.GetString(Assert.Single(frames, f => f.Opcode == 0xA).Payload));
        var messages = frames.Where(f => f.Opcode != 0xA).ToList();
        Assert.Equal([0x1, 0x1, 0x2], messages.Select(f => f.Opcode));
        Assert.Equal(["one", "two"], messages.Take(2).Select(f => Encoding.UTF8.GetString(f.Payload)));
        Assert.Equal(new byte[300], messages[2].Payload);
        Assert.All(frames, f => Assert.True(f.Masked));
        Assert.Equal(4, frames.Select(f => Convert.ToHexString(f.Key)).Distinct().Count());
    }

    [Fact]
    public void AMaskedServerFrameFailsTheConnectionWith1002()
    {
        int closeCode = 0;
        using var server = new ScriptedWebSocketServer(async c =>
        {
            c.Send(c.GoodAnswer());
            c.Send([0x81, 0x81, 1, 2, 3, 4, (byte)('x' ^ 1)]);
            var close = c.ReadFrame();
            Assert.Equal(0x8, close.Opcode);
            closeCode = (close.Payload[0] << 8) | close.Payload[1];
            await Task.CompletedTask;
        });
        OnClientLoop(async loop =>
        {
            WebSocketConnection ws = await loop.ConnectWebSocketAsync(server.Url(), Quiet());
            await Assert.ThrowsAsync<WebSocketException>(async () => await ws.ReceiveAsync(new byte[8]));
            Assert.Equal(WebSocketState.Aborted, ws.State);
        });
        server.WaitForScript();
        Assert.Equal(1002, closeCode);
    }

    public static TheoryData<bool> Splits => new() { false, true };

    [Theory]
    [MemberData(nameof(Splits))]
    public void TheMessagesAreTheSameHoweverTheBytesAreSplit(bool bytewise)
    {
        byte[] medium = RandomNumberGenerator.GetBytes(1000);
        byte[] stream =
        [
            .. ScriptedWebSocketServer.Frame(0x1, "he"u8.ToArray(), fin: false),
            .. ScriptedWebSocketServer.Frame(0x9, "p"u8.ToArray()),          // a ping between the pieces
            .. ScriptedWebSocketServer.Frame(0x0, "llo"u8.ToArray()),
            .. ScriptedWebSocketServer.Frame(0x2, medium),
            .. ScriptedWebSocketServer.Frame(0x1, []),
            .. ScriptedWebSocketServer.Frame(0x8, [0x0F, 0xA0, (byte)'o', (byte)'k']),
        ];
        using var server = new ScriptedWebSocketServer(async c =>
        {
            // The head and the first frames in one write: the client gets frames with its 101.
            byte[] answer = [.. Encoding.Latin1.GetBytes(c.GoodAnswer()), .. stream];
            if (bytewise)
            {
                c.SendBytewise(answer);
            }
            else
            {
                c.Send(answer);
            }
            Assert.Equal(0xA, c.ReadFrame().Opcode);
            Assert.Equal(0x8, c.ReadFrame().Opcode);
            await Task.CompletedTask;
        });
        OnClientLoop(async loop =>
        {
            WebSocketConnection ws = await loop.ConnectWebSocketAsync(server.Url(), Quiet());
            var messages = new List<(WebSocketMessageType, string)>();
            while (true)
            {
                (WebSocketMessageType type, byte[] payload) = await ReceiveMessageAsync(ws);
                if (type == WebSocketMessageType.Close)
                {
                    break;
                }
                messages.Add((type, Convert.ToHexString(payload)));
            }
            Assert.Equal(
                [(WebSocketMessageType.Text, Convert.ToHexString("hello"u8)), (WebSocketMessageType.Binary, Convert.ToHexString(medium)), (WebSocketMessageType.Text, "")],
                messages);
            Assert.Equal((WebSocketCloseStatus)4000, ws.CloseStatus);
            Assert.Equal("ok", ws.CloseStatusDescription);
        });
        server.WaitForScript();
    }

    public static TheoryData<string, WebSocketHandshakeFailure, string> BadAnswers => new()
    {
        { "HTTP/1.1 302 Found\r\nLocation: ws://elsewhere/\r\nContent-Length: 0\r\n\r\n", WebSocketHandshakeFailure.BadStatus, "redirects are not followed" },
        { "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", WebSocketHandshakeFailure.BadStatus, "404 Not Found" },
        { "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n", WebSocketHandshakeFailure.BadAccept, "does not match" },
        { "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", WebSocketHandshakeFailure.BadAccept, "no Sec-WebSocket-Accept" },
        { "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n", WebSocketHandshakeFailure.MissingUpgrade, "Upgrade: websocket" },
        { "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: v9\r\n\r\n", WebSocketHandshakeFailure.UnexpectedSubProtocol, "\"v9\"" },
        { "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", WebSocketHandshakeFailure.UnexpectedExtension, "permessage-deflate" },
        { "SSH-2.0-OpenSSH_9.6\r\n\r\n", WebSocketHandshakeFailure.BadResponse, "status line" },
        { "HTTP/1.1 101 Switching", WebSocketHandshakeFailure.ConnectionClosed, "closed the connection" },
    };

    [Theory]
    [MemberData(nameof(BadAnswers))]
    public void ABadAnswerFailsTheConnectWithItsReason(string answer, WebSocketHandshakeFailure failure, string inMessage)
    {
        using var server = new ScriptedWebSocketServer(async c =>
        {
            c.Send(answer.Replace("{accept}", ScriptedWebSocketServer.Accept(c.Key)));
            c.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            await Task.CompletedTask;
        });
        OnClientLoop(async loop =>
        {
            WebSocketClientOptions options = Quiet();
            options.SubProtocols.Add("v1");
            var e = await Assert.ThrowsAsync<WebSocketHandshakeException>(async () => await loop.ConnectWebSocketAsync(server.Url(), options));
            Assert.Equal(failure, e.Failure);
            Assert.Contains(inMessage, e.Message);
        });
        server.WaitForScript();
    }

    [Fact]
    public void AServerThatNeverAnswersTimesOutOnTheLoopsClock()
    {
        var done = new ManualResetEventSlim();
        using var server = new ScriptedWebSocketServer(c => Task.Run(() => done.Wait(s_timeout)));
        OnClientLoop(async loop =>
        {
            WebSocketClientOptions options = Quiet();
            options.HandshakeTimeout = TimeSpan.FromMilliseconds(200);
            var e = await Assert.ThrowsAsync<WebSocketHandshakeException>(async () => await loop.ConnectWebSocketAsync(server.Url(), options));
            Assert.Equal(WebSocketHandshakeFailure.Timeout, e.Failure);
            Assert.Null(e.StatusCode);
        });
        done.Set();
        server.WaitForScript();
    }

    [Fact]
    public void TheCallersTokenCancelsAWaitingHandshake()
    {
        var done = new ManualResetEventSlim();
        using var server = new ScriptedWebSocketServer(c => Task.Run(() => done.Wait(s_timeout)));
        OnClientLoop(async loop =>
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)); // fires on a timer thread
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await loop.ConnectWebSocketAsync(server.Url(), Quiet(), cancel.Token));
        });
        done.Set();
        server.WaitForScript();
    }

    [Fact]
    public void TheRequestIsAValidHandshakeWithAFreshKey()
    {
        var keys = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            string[] lines = [];
            using var server = new ScriptedWebSocketServer(async c =>
            {
                lines = c.RequestLines;
                keys.Add(c.Key);
                c.Send(c.GoodAnswer());
                await Task.CompletedTask;
            });
            OnClientLoop(async loop => (await loop.ConnectWebSocketAsync(server.Url("/path?x=1"), Quiet())).Abort());
            server.WaitForScript();
            Assert.Equal("GET /path?x=1 HTTP/1.1", lines[0]);
            Assert.Contains("Sec-WebSocket-Version: 13", lines);
            Assert.Contains("Upgrade: websocket", lines);
            Assert.Contains(lines, l => l.StartsWith("Host: 127.0.0.1:", StringComparison.Ordinal));
        }
        Assert.All(keys, k => Assert.Equal(16, Convert.FromBase64String(k).Length));
        Assert.NotEqual(keys[0], keys[1]);
    }

    [Fact]
    public void BadArgumentsAreRefusedBeforeConnecting()
    {
        OnClientLoop(async loop =>
        {
            await Assert.ThrowsAsync<ArgumentException>(async () => await loop.ConnectWebSocketAsync(new Uri("http://127.0.0.1:1/")));
            await Assert.ThrowsAsync<ArgumentException>(async () => await loop.ConnectWebSocketAsync(new Uri("ws://127.0.0.1:1/#frag")));
            var options = new WebSocketClientOptions();
            options.Headers.Add(new("Sec-WebSocket-Key", "x"));
            await Assert.ThrowsAsync<ArgumentException>(async () => await loop.ConnectWebSocketAsync(new Uri("ws://127.0.0.1:1/"), options));
            options = new WebSocketClientOptions();
            options.Headers.Add(new("X-Evil", "a\r\nInjected: 1"));
            await Assert.ThrowsAsync<ArgumentException>(async () => await loop.ConnectWebSocketAsync(new Uri("ws://127.0.0.1:1/"), options));
        });
    }
}
