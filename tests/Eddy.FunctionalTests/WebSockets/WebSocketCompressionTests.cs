using System.Buffers;
using System.IO.Compression;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Eddy.Cli.Serve;
using Eddy.FunctionalTests.Http;
using Eddy.Http;
using Eddy.Loop;
using Eddy.Web;
using Eddy.WebSockets;

namespace Eddy.FunctionalTests.WebSockets;

/// <summary>
/// permessage-deflate (RFC 7692) over real sockets: Eddy's client and server with every context choice, what goes on
/// the wire (RSV1, the compressed size), a client held to a small window, .NET's <see cref="ClientWebSocket"/> with
/// its deflate options, and a decompression bomb sent to <c>/ws/echo</c>.
/// </summary>
public sealed class WebSocketCompressionTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private static readonly byte[] s_marker = [0x00, 0x00, 0xFF, 0xFF];

    private static readonly string s_words = string.Concat(Enumerable.Repeat("the same words, again and again; ", 6000)); // ~200 KB

    private static void OnClientLoop(Func<EventLoop, Task> body)
    {
        using var loop = new EventLoop();
        loop.Run(() => body(loop).WaitAsync(s_timeout));
    }

    /// <summary>Every message back, a piece at a time as it is received (as <c>/ws/echo</c>).</summary>
    private static async ValueTask EchoAsync(HttpContext context, WebSocketConnection webSocket)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
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
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveMessageAsync(WebSocketConnection ws)
    {
        var payload = new MemoryStream();
        var buffer = new byte[7000];
        ValueWebSocketReceiveResult result;
        do
        {
            result = await ws.ReceiveAsync(buffer);
            payload.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
        return (result.MessageType, payload.ToArray());
    }

    public static TheoryData<bool, bool, string> ContextChoices => new()
    {
        { true, true, "permessage-deflate" },
        { false, true, "permessage-deflate; server_no_context_takeover" },
        { true, false, "permessage-deflate; client_no_context_takeover" },
        { false, false, "permessage-deflate; server_no_context_takeover; client_no_context_takeover" },
    };

    [Theory]
    [MemberData(nameof(ContextChoices))]
    public void EddysClientAndServerAgreeAndEveryMessageComesBack(bool serverTakeover, bool clientTakeover, string agreed)
    {
        var serverOptions = new WebSocketOptions { MaxMessageSize = 16 << 20, Compression = new WebSocketCompressionOptions { Threshold = 0 } };
        using var server = new HttpTestServer(new WebApp().MapWebSocket("/ws", EchoAsync, serverOptions));
        OnClientLoop(async loop =>
        {
            var options = new WebSocketClientOptions
            {
                Connection = new WebSocketOptions
                {
                    KeepAliveInterval = TimeSpan.Zero,
                    MaxMessageSize = 16 << 20,
                    Compression = new WebSocketCompressionOptions { ServerContextTakeover = serverTakeover, ClientContextTakeover = clientTakeover, Threshold = 0 },
                },
            };
            WebSocketConnection ws = await loop.ConnectWebSocketAsync(new Uri($"ws://{server.EndPoint}/ws"), options);
            Assert.Equal(agreed, ws.Extensions);

            var messages = new List<(WebSocketMessageType, byte[])>
            {
                (WebSocketMessageType.Text, "Hello"u8.ToArray()),
                (WebSocketMessageType.Text, "Hello"u8.ToArray()), // a back-reference to the first, with context takeover
                (WebSocketMessageType.Binary, []),
                (WebSocketMessageType.Text, Encoding.UTF8.GetBytes("héllo, wörld 👋 " + s_words)),
                (WebSocketMessageType.Binary, RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 5)), // incompressible, several 64 KiB frames
                (WebSocketMessageType.Text, "Hello"u8.ToArray()),
            };
            foreach ((WebSocketMessageType type, byte[] payload) in messages)
            {
                Task send = (type == WebSocketMessageType.Text ? ws.SendTextAsync(payload) : ws.SendBinaryAsync(payload)).AsTask();
                (WebSocketMessageType gotType, byte[] got) = await ReceiveMessageAsync(ws);
                await send;
                Assert.Equal(type, gotType);
                Assert.True(payload.AsSpan().SequenceEqual(got), $"a {payload.Length}-byte {type} message came back changed ({got.Length} bytes)");
            }

            // In pieces (compressed whatever the first piece's size), the last one empty.
            byte[] words = Encoding.UTF8.GetBytes(s_words);
            await ws.SendAsync(words.AsMemory(0, 70_000), WebSocketMessageType.Text, endOfMessage: false);
            await ws.SendAsync(words.AsMemory(70_000), WebSocketMessageType.Text, endOfMessage: false);
            await ws.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageType.Text, endOfMessage: true);
            (WebSocketMessageType piecesType, byte[] echoed) = await ReceiveMessageAsync(ws);
            Assert.Equal(WebSocketMessageType.Text, piecesType);
            Assert.Equal(s_words, Encoding.UTF8.GetString(echoed));

            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye");
            Assert.Equal(WebSocketState.Closed, ws.State);
        });
        Assert.Empty(server.Errors);
    }

    /// <summary>A raw client of <c>/ws/echo</c>: the handshake with <paramref name="offer"/>, then the 101's head.</summary>
    private static async Task<(Socket Socket, string Head)> RawConnectAsync(HttpTestServer server, string offer)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.EndPoint);
        string request = "GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: {offer}\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        var head = new List<byte>();
        var one = new byte[1];
        while (!System.Runtime.InteropServices.CollectionsMarshal.AsSpan(head).EndsWith("\r\n\r\n"u8))
        {
            Assert.Equal(1, await socket.ReceiveAsync(one));
            head.Add(one[0]);
        }
        return (socket, Encoding.ASCII.GetString([.. head]));
    }

    /// <summary>A masked client frame; RSV1 when <paramref name="rsv1"/>.</summary>
    private static byte[] ClientFrame(int opcode, byte[] payload, bool rsv1, bool fin = true)
    {
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode) };
        if (payload.Length <= 125)
        {
            frame.Add((byte)(0x80 | payload.Length));
        }
        else if (payload.Length <= 0xFFFF)
        {
            frame.AddRange([0x80 | 126, (byte)(payload.Length >> 8), (byte)payload.Length]);
        }
        else
        {
            frame.Add(0x80 | 127);
            for (int i = 7; i >= 0; i--)
            {
                frame.Add((byte)((long)payload.Length >> (8 * i)));
            }
        }
        byte[] key = [0x11, 0x22, 0x33, 0x44];
        frame.AddRange(key);
        for (int i = 0; i < payload.Length; i++)
        {
            frame.Add((byte)(payload[i] ^ key[i & 3]));
        }
        return [.. frame];
    }

    /// <summary>Reads one server frame: first byte and payload.</summary>
    private static async Task<(byte First, byte[] Payload)> ReadServerFrameAsync(Socket socket)
    {
        byte[] head = await ReadExactlyAsync(socket, 2);
        long length = head[1] & 0x7F;
        if (length >= 126)
        {
            byte[] extended = await ReadExactlyAsync(socket, length == 126 ? 2 : 8);
            length = extended.Aggregate(0L, (n, b) => (n << 8) | b);
        }
        return (head[0], await ReadExactlyAsync(socket, (int)length));
    }

    private static async Task<byte[]> ReadExactlyAsync(Socket socket, int count)
    {
        var buffer = new byte[count];
        int at = 0;
        using var cts = new CancellationTokenSource(s_timeout);
        while (at < count)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(at), SocketFlags.None, cts.Token);
            Assert.True(n > 0, "the server closed the connection");
            at += n;
        }
        return buffer;
    }

    /// <summary>DEFLATE of <paramref name="data"/> as a sender of one message with a fresh context puts it on the wire.</summary>
    private static byte[] Deflate(byte[] data)
    {
        var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(data);
            deflate.Flush();
        }
        byte[] all = output.ToArray();
        return all[..all.AsSpan().LastIndexOf(s_marker)];
    }

    private static byte[] Inflate(byte[] payload)
    {
        using var inflate = new DeflateStream(new MemoryStream([.. payload, .. s_marker]), CompressionMode.Decompress);
        var output = new MemoryStream();
        inflate.CopyTo(output);
        return output.ToArray();
    }

    [Fact]
    public async Task TheEchoOfACompressibleMessageGoesCompressedOnTheWire()
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        (Socket socket, string head) = await RawConnectAsync(server, "permessage-deflate; client_max_window_bits");
        using (socket)
        {
            Assert.Contains("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n", head);
            byte[] words = Encoding.UTF8.GetBytes(s_words[..12_000]); // under the demo's 16 KiB receive buffer: echoed as one frame
            await socket.SendAsync(ClientFrame(0x1, Deflate(words), rsv1: true));
            (byte first, byte[] payload) = await ReadServerFrameAsync(socket);
            Assert.Equal(0xC1, first); // FIN, RSV1, text
            Assert.True(payload.Length < words.Length / 20, $"{payload.Length} bytes on the wire for {words.Length}");
            Assert.Equal(words, Inflate(payload));

            // Under the threshold (1 KiB), a message goes back uncompressed.
            await socket.SendAsync(ClientFrame(0x1, Deflate("Hello"u8.ToArray()), rsv1: true));
            (first, payload) = await ReadServerFrameAsync(socket);
            Assert.Equal(0x81, first);
            Assert.Equal("Hello"u8.ToArray(), payload);
        }
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task ADecompressionBombSentToTheEchoEndpointFailsItWith1009()
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        (Socket socket, _) = await RawConnectAsync(server, "permessage-deflate");
        using (socket)
        {
            byte[] bomb = Deflate(new byte[40 << 20]); // 40 MiB of zeros in ~40 KiB; the limit is 32 MiB
            Assert.True(bomb.Length < 64 * 1024);
            Task send = socket.SendAsync(ClientFrame(0x2, bomb, rsv1: true));
            long echoed = 0;
            while (true)
            {
                (byte first, byte[] payload) = await ReadServerFrameAsync(socket);
                if ((first & 0x0F) == 0x8)
                {
                    Assert.Equal(1009, (payload[0] << 8) | payload[1]);
                    Assert.Contains("limit", Encoding.UTF8.GetString(payload.AsSpan(2)));
                    break;
                }
                echoed += payload.Length; // the echo streams pieces back until the limit is passed
            }
            await send;
            Assert.True(echoed < 1 << 20, $"{echoed} bytes of echo on the wire: the echo of zeros should be compressed too");
        }
        Assert.Empty(server.Errors);
    }

    [Fact]
    public void AClientHeldToASmallWindowCompressesOnlyWholeMessagesThatFitIt()
    {
        using var server = new ScriptedWebSocketServer(async c =>
        {
            c.Send(c.GoodAnswer("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9\r\n"));
            var small = c.ReadFrame();  // 500 bytes: within 512, compressed
            Assert.True(small.Rsv1);
            Assert.Equal(Encoding.UTF8.GetBytes(s_words[..500]), Inflate(small.Payload));
            var large = c.ReadFrame();  // 600 bytes: beyond the window, sent as it is
            Assert.False(large.Rsv1);
            Assert.Equal(Encoding.UTF8.GetBytes(s_words[..600]), large.Payload);
            c.Send(ScriptedWebSocketServer.Frame(0x1, Convert.FromHexString("f248cdc9c90700"), rsv1: true)); // RFC 7692's "Hello"
            c.Send(ScriptedWebSocketServer.Frame(0x1, Convert.FromHexString("f200110000"), rsv1: true));     // and again, by reference
            Assert.Equal(0x8, c.ReadFrame().Opcode);
            c.Send(ScriptedWebSocketServer.Frame(0x8, [0x03, 0xE8]));
            await Task.CompletedTask;
        });
        OnClientLoop(async loop =>
        {
            var options = new WebSocketClientOptions
            {
                Connection = new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero, Compression = new WebSocketCompressionOptions { Threshold = 0 } },
            };
            WebSocketConnection ws = await loop.ConnectWebSocketAsync(server.Url(), options);
            Assert.Equal("permessage-deflate; client_max_window_bits=9", ws.Extensions);
            await ws.SendTextAsync(s_words[..500]);
            await ws.SendTextAsync(s_words[..600]);
            Assert.Equal("Hello", Encoding.UTF8.GetString((await ReceiveMessageAsync(ws)).Payload));
            Assert.Equal("Hello", Encoding.UTF8.GetString((await ReceiveMessageAsync(ws)).Payload));
            await ws.CloseAsync();
        });
        server.WaitForScript();
    }

    [Theory]
    [InlineData("permessage-deflate; client_max_window_bits=7", "out of range")]
    [InlineData("permessage-deflate; x=1", "\"x=1\"")]
    [InlineData("x-webkit-deflate-frame", "not offered")]
    public void AnAnswerTheClientCannotHonourFailsTheConnect(string extensions, string inMessage)
    {
        using var server = new ScriptedWebSocketServer(async c =>
        {
            c.Send(c.GoodAnswer($"Sec-WebSocket-Extensions: {extensions}\r\n"));
            c.Socket.Shutdown(SocketShutdown.Send);
            await Task.CompletedTask;
        });
        OnClientLoop(async loop =>
        {
            var options = new WebSocketClientOptions { Connection = new WebSocketOptions { Compression = new WebSocketCompressionOptions() } };
            var e = await Assert.ThrowsAsync<WebSocketHandshakeException>(async () => await loop.ConnectWebSocketAsync(server.Url(), options));
            Assert.Equal(WebSocketHandshakeFailure.UnexpectedExtension, e.Failure);
            Assert.Contains(inMessage, e.Message);
        });
        server.WaitForScript();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task DotnetsClientWebSocketWithDeflateTalksToTheEchoEndpoint(bool contextTakeover)
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        using var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        client.Options.CollectHttpResponseDetails = true;
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions { ClientContextTakeover = contextTakeover, ServerContextTakeover = contextTakeover };
        using var cts = new CancellationTokenSource(s_timeout);
        await client.ConnectAsync(new Uri($"ws://{server.EndPoint}/ws/echo"), cts.Token);
        string agreed = string.Join(", ", client.HttpResponseHeaders!["Sec-WebSocket-Extensions"]);
        Assert.StartsWith("permessage-deflate", agreed);
        Assert.Equal(!contextTakeover, agreed.Contains("server_no_context_takeover", StringComparison.Ordinal));

        for (int i = 0; i < 3; i++)
        {
            byte[] words = Encoding.UTF8.GetBytes($"{i}: {s_words}");
            await client.SendAsync(words, WebSocketMessageType.Text, true, cts.Token);
            var received = new MemoryStream();
            var buffer = new byte[64 * 1024];
            ValueWebSocketReceiveResult result;
            do
            {
                result = await client.ReceiveAsync(buffer.AsMemory(), cts.Token);
                received.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);
            Assert.Equal(words, received.ToArray());
        }
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
        Assert.Empty(server.Errors);
    }
}
