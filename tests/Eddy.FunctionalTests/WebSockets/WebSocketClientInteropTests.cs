using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Eddy.Cli.Serve;
using Eddy.FunctionalTests.Http;
using Eddy.Loop;
using Eddy.WebSockets;

namespace Eddy.FunctionalTests.WebSockets;

/// <summary>
/// Eddy's client against servers that are not Eddy's — Python's <c>websockets</c> 10.4 and Node's <c>ws</c> — and
/// Node's <c>ws</c> as a client of Eddy's <c>/ws/echo</c>: text, binary, fragmented, 1 MiB, close codes both ways;
/// each without and with permessage-deflate.
/// </summary>
public sealed class WebSocketClientInteropTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    // Both servers: any path, the "echo" subprotocol when offered, every message echoed whole; "close-me" is
    // answered with a close of 4001 "server bye".
    private const string PythonServer = """
        import asyncio, websockets

        async def echo(ws):
            async for message in ws:
                if message == "close-me":
                    await ws.close(code=4001, reason="server bye")
                    return
                await ws.send(message)

        async def main():
            async with websockets.serve(echo, "127.0.0.1", 0, subprotocols=["echo"], max_size=None, ping_interval=None) as server:
                print(server.sockets[0].getsockname()[1], flush=True)
                await asyncio.Future()

        asyncio.run(main())
        """;

    private const string NodeServer = """
        const WebSocket = require('/usr/share/nodejs/ws');
        const deflate = process.argv[1] === 'deflate' ? { threshold: 0 } : false;
        const server = new WebSocket.WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate, maxPayload: 64 << 20,
          handleProtocols: (offered) => offered.has('echo') ? 'echo' : false });
        server.on('listening', () => console.log(server.address().port));
        server.on('connection', (s) => s.on('message', (data, isBinary) => {
          if (!isBinary && data.toString() === 'close-me') s.close(4001, 'server bye');
          else s.send(data, { binary: isBinary });
        }));
        """;

    private const string NodeClient = """
        const WebSocket = require('/usr/share/nodejs/ws');
        const crypto = require('crypto');
        const fail = (why) => { console.error('FAIL ' + why); process.exit(1); };
        setTimeout(() => fail('timeout'), 30000);
        const deflate = process.argv[2] === 'deflate';
        const ws = new WebSocket(process.argv[1], ['chat', 'echo'], { perMessageDeflate: deflate ? { threshold: 0 } : false, maxPayload: 64 << 20 });
        const queue = []; let waiter = null;
        ws.on('message', (data, isBinary) => { const m = { data, isBinary }; if (waiter) { const w = waiter; waiter = null; w(m); } else queue.push(m); });
        const next = () => queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => { waiter = r; });
        ws.on('error', (e) => fail(e.message));
        ws.on('open', async () => {
          if (ws.protocol !== 'echo') fail('subprotocol ' + ws.protocol);
          if (ws.extensions !== (deflate ? 'permessage-deflate' : '')) fail('extensions ' + ws.extensions);
          const words = 'the same words, again and again; '.repeat(60000); ws.send(words);
          let w = await next(); if (w.isBinary || w.data.toString() !== words) fail('2 MiB of words');
          ws.send('héllo 👋');
          let m = await next(); if (m.isBinary || m.data.toString() !== 'héllo 👋') fail('text');
          const data = crypto.randomBytes(1000); ws.send(data);
          m = await next(); if (!m.isBinary || !m.data.equals(data)) fail('binary');
          ws.send('frag', { fin: false }); ws.send('men', { fin: false }); ws.send('ted', { fin: true });
          m = await next(); if (m.isBinary || m.data.toString() !== 'fragmented') fail('fragmented');
          const big = crypto.randomBytes(1 << 20); ws.send(big);
          m = await next(); if (!m.isBinary || !m.data.equals(big)) fail('1 MiB');
          ws.on('close', (code, reason) => { if (code !== 4000) fail('close code ' + code); console.log('ok'); process.exit(0); });
          ws.close(4000, 'done');
        });
        """;

    private static void OnClientLoop(Func<EventLoop, Task> body)
    {
        using var loop = new EventLoop();
        loop.Run(() => body(loop).WaitAsync(s_timeout));
    }

    private static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveMessageAsync(WebSocketConnection ws)
    {
        var payload = new MemoryStream();
        var buffer = new byte[64 * 1024];
        ValueWebSocketReceiveResult result;
        do
        {
            result = await ws.ReceiveAsync(buffer);
            payload.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
        return (result.MessageType, payload.ToArray());
    }

    /// <summary>The conversation every foreign server must hold with Eddy's client.</summary>
    private static void TalkTo(Uri uri, bool deflate = false)
    {
        OnClientLoop(async loop =>
        {
            var options = new WebSocketClientOptions { Connection = new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero, MaxMessageSize = null } };
            options.SubProtocols.Add("chat");
            options.SubProtocols.Add("echo");
            if (deflate)
            {
                options.Connection.Compression = new WebSocketCompressionOptions { Threshold = 0 };
            }
            WebSocketConnection ws = await loop.ConnectWebSocketAsync(uri, options);
            Assert.Equal("echo", ws.SubProtocol);
            if (deflate)
            {
                Assert.StartsWith("permessage-deflate", ws.Extensions);
                string words = string.Concat(Enumerable.Repeat("the same words, again and again; ", 60000));
                await ws.SendTextAsync(words);
                (WebSocketMessageType wordsType, byte[] echoed) = await ReceiveMessageAsync(ws);
                Assert.Equal(WebSocketMessageType.Text, wordsType);
                Assert.True(words == Encoding.UTF8.GetString(echoed), "2 MiB of words came back changed");
            }
            else
            {
                Assert.Null(ws.Extensions);
            }

            await ws.SendTextAsync("héllo 👋");
            (WebSocketMessageType type, byte[] payload) = await ReceiveMessageAsync(ws);
            Assert.Equal(WebSocketMessageType.Text, type);
            Assert.Equal("héllo 👋", Encoding.UTF8.GetString(payload));

            byte[] data = RandomNumberGenerator.GetBytes(1000);
            await ws.SendBinaryAsync(data);
            (type, payload) = await ReceiveMessageAsync(ws);
            Assert.Equal(WebSocketMessageType.Binary, type);
            Assert.Equal(data, payload);

            await ws.SendAsync("frag"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: false);
            await ws.SendAsync("men"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: false);
            await ws.SendAsync("ted"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true);
            (type, payload) = await ReceiveMessageAsync(ws);
            Assert.Equal("fragmented", Encoding.UTF8.GetString(payload));

            byte[] big = RandomNumberGenerator.GetBytes(1 << 20);
            Task send = ws.SendBinaryAsync(big).AsTask();
            (type, payload) = await ReceiveMessageAsync(ws);
            await send;
            Assert.Equal(WebSocketMessageType.Binary, type);
            Assert.Equal(SHA256.HashData(big), SHA256.HashData(payload));

            await ws.SendTextAsync("close-me"); // the server closes: its code and reason reach us
            (type, _) = await ReceiveMessageAsync(ws);
            Assert.Equal(WebSocketMessageType.Close, type);
            Assert.Equal((WebSocketCloseStatus)4001, ws.CloseStatus);
            Assert.Equal("server bye", ws.CloseStatusDescription);

            WebSocketConnection second = await loop.ConnectWebSocketAsync(uri, options);
            await second.CloseAsync((WebSocketCloseStatus)4000, "done"); // we close: the server echoes the code
            Assert.Equal(WebSocketState.Closed, second.State);
            Assert.Equal((WebSocketCloseStatus)4000, second.CloseStatus);
        });
    }

    [Fact]
    public async Task EddysClientTalksToPythonWebsockets()
    {
        using ExternalPeer server = ExternalPeer.Python(PythonServer);
        string port = await server.ReadLineAsync();
        TalkTo(new Uri($"ws://127.0.0.1:{port}/any/path"));
    }

    [Fact]
    public async Task EddysClientTalksToPythonWebsocketsWithPermessageDeflate()
    {
        using ExternalPeer server = ExternalPeer.Python(PythonServer); // websockets accepts permessage-deflate by default
        string port = await server.ReadLineAsync();
        TalkTo(new Uri($"ws://127.0.0.1:{port}/any/path"), deflate: true);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EddysClientTalksToNodeWs(bool deflate)
    {
        using ExternalPeer server = ExternalPeer.Node(NodeServer, deflate ? "deflate" : "plain");
        string port = await server.ReadLineAsync();
        TalkTo(new Uri($"ws://127.0.0.1:{port}/any/path"), deflate);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NodeWsTalksToEddysEchoEndpoint(bool deflate)
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        using ExternalPeer client = ExternalPeer.Node(NodeClient, $"ws://{server.EndPoint}/ws/echo", deflate ? "deflate" : "plain");
        Assert.Equal("ok", (await client.WaitForExitAsync()).Trim());
        Assert.Empty(server.Errors);
    }
}
