using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Eddy.Cli.Serve;
using Eddy.FunctionalTests.Http;

namespace Eddy.FunctionalTests.WebSockets;

/// <summary><c>eddy serve</c>'s <c>/ws/echo</c> over real sockets, with .NET's own <see cref="ClientWebSocket"/> as the peer.</summary>
public sealed class WebSocketEchoTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);
    private readonly HttpTestServer _server = new(DemoApp.Create(DemoApp.DefaultStaticFolder));

    public void Dispose() => _server.Dispose();

    private async Task<ClientWebSocket> ConnectAsync(params string[] subProtocols)
    {
        var client = new ClientWebSocket();
        foreach (string subProtocol in subProtocols)
        {
            client.Options.AddSubProtocol(subProtocol);
        }
        client.Options.KeepAliveInterval = TimeSpan.Zero;
        using var cts = new CancellationTokenSource(s_timeout);
        await client.ConnectAsync(new Uri($"ws://{_server.EndPoint}/ws/echo"), cts.Token);
        return client;
    }

    /// <summary>Receives one whole message (any number of pieces).</summary>
    private static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveMessageAsync(WebSocket socket)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var payload = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            ValueWebSocketReceiveResult result = await socket.ReceiveAsync(buffer.AsMemory(), cts.Token);
            payload.Write(buffer, 0, result.Count);
            if (result.EndOfMessage || result.MessageType == WebSocketMessageType.Close)
            {
                return (result.MessageType, payload.ToArray());
            }
        }
    }

    [Fact]
    public async Task ATextMessageComesBackAsText()
    {
        using ClientWebSocket client = await ConnectAsync();
        await client.SendAsync("héllo, wörld 👋"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        (WebSocketMessageType type, byte[] payload) = await ReceiveMessageAsync(client);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal("héllo, wörld 👋", Encoding.UTF8.GetString(payload));
        Assert.Null(client.SubProtocol);
    }

    [Fact]
    public async Task ABinaryMessageComesBackAsBinaryAndEmptyMessagesToo()
    {
        using ClientWebSocket client = await ConnectAsync();
        byte[] data = RandomNumberGenerator.GetBytes(1000);
        await client.SendAsync(data, WebSocketMessageType.Binary, true, CancellationToken.None);
        (WebSocketMessageType type, byte[] payload) = await ReceiveMessageAsync(client);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(data, payload);

        await client.SendAsync(Array.Empty<byte>(), WebSocketMessageType.Text, true, CancellationToken.None);
        (type, payload) = await ReceiveMessageAsync(client);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Empty(payload);
    }

    [Fact]
    public async Task AFragmentedMessageComesBackWhole()
    {
        using ClientWebSocket client = await ConnectAsync();
        await client.SendAsync("frag"u8.ToArray(), WebSocketMessageType.Text, false, CancellationToken.None);
        await client.SendAsync("men"u8.ToArray(), WebSocketMessageType.Text, false, CancellationToken.None);
        await client.SendAsync("ted"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        (WebSocketMessageType type, byte[] payload) = await ReceiveMessageAsync(client);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal("fragmented", Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public async Task AnEightMebibyteMessageComesBackIntact()
    {
        using ClientWebSocket client = await ConnectAsync();
        byte[] data = RandomNumberGenerator.GetBytes(8 * 1024 * 1024);
        Task send = client.SendAsync(data, WebSocketMessageType.Binary, true, CancellationToken.None);
        (WebSocketMessageType type, byte[] payload) = await ReceiveMessageAsync(client);
        await send;
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(payload));
        Assert.Equal(data.Length, payload.Length);
    }

    [Fact]
    public async Task TheEchoSubprotocolIsChosenWhereverTheClientListsIt()
    {
        using ClientWebSocket client = await ConnectAsync("chat", "echo");
        Assert.Equal("echo", client.SubProtocol);
    }

    [Fact]
    public async Task APingIsAnsweredWithAPongOfTheSamePayloadAndTheEchoGoesOn()
    {
        using Socket socket = await HandshakeAsync();
        byte[] ping = [0x89, 0x83, 1, 2, 3, 4, (byte)('a' ^ 1), (byte)('b' ^ 2), (byte)('c' ^ 3)];
        byte[] text = [0x81, 0x81, 9, 9, 9, 9, (byte)('z' ^ 9)];
        await socket.SendAsync(ping.Concat(text).ToArray());
        byte[] received = await ReadAtLeastAsync(socket, 8, afterHead: false);
        Assert.Equal(new byte[] { 0x8A, 0x03, (byte)'a', (byte)'b', (byte)'c', 0x81, 0x01, (byte)'z' }, received);
    }

    [Fact]
    public async Task ClientWebSocketKeepAlivePingsGetPongs()
    {
        // .NET's client, with a keep-alive timeout, aborts when a ping of its own goes unanswered (.NET 9+).
        using var client = new ClientWebSocket();
        client.Options.KeepAliveInterval = TimeSpan.FromMilliseconds(50);
        client.Options.KeepAliveTimeout = TimeSpan.FromSeconds(5);
        await client.ConnectAsync(new Uri($"ws://{_server.EndPoint}/ws/echo"), CancellationToken.None);
        byte[] data = RandomNumberGenerator.GetBytes(4 * 1024 * 1024); // long enough for pings to go out meanwhile
        Task send = client.SendAsync(data, WebSocketMessageType.Binary, true, CancellationToken.None);
        (_, byte[] payload) = await ReceiveMessageAsync(client);
        await send;
        Assert.Equal(data.Length, payload.Length);
        Assert.Equal(WebSocketState.Open, client.State);
    }

    [Theory]
    [InlineData(WebSocketCloseStatus.NormalClosure, "bye")]
    [InlineData(WebSocketCloseStatus.EndpointUnavailable, "")]
    [InlineData((WebSocketCloseStatus)4000, "application code")]
    public async Task TheClientsCloseIsEchoedWithItsCode(WebSocketCloseStatus status, string reason)
    {
        using ClientWebSocket client = await ConnectAsync();
        using var cts = new CancellationTokenSource(s_timeout);
        await client.CloseAsync(status, reason, cts.Token);
        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal(status, client.CloseStatus);
        await _server.WaitForConnectionCountAsync(0);
    }

    [Fact]
    public async Task AMessageOverThirtyTwoMebibytesFailsWith1009AtItsHeader()
    {
        // The header alone declares 33 MiB: the answer must come without the payload being sent.
        using Socket socket = await HandshakeAsync();
        byte[] header = [0x82, 0xFF, 0, 0, 0, 0, 0x02, 0x10, 0, 0, 1, 2, 3, 4];
        await socket.SendAsync(header);
        byte[] answer = await ReadFramesUntilCloseAsync(socket);
        Assert.Equal(0x88, answer[0]);
        Assert.Equal(1009, (answer[2] << 8) | answer[3]);
    }

    [Theory]
    [InlineData("GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", 426)]
    [InlineData("GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 426)]
    [InlineData("GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", 400)]
    [InlineData("GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n", 400)]
    [InlineData("GET /ws/echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400)]
    [InlineData("GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400)]
    [InlineData("GET /ws/echo HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400)]
    [InlineData("GET /ws/echo HTTP/1.1\r\nHost: x\r\n\r\n", 400)]
    public async Task ABadHandshakeIsRefused(string request, int status)
    {
        using Socket socket = await _server.ConnectAsync();
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        string answer = await ReadHeadAsync(socket);
        Assert.StartsWith($"HTTP/1.1 {status} ", answer);
        if (status == 426)
        {
            Assert.Contains("\r\nSec-WebSocket-Version: 13\r\n", answer);
        }
        await _server.AssertServesPlaintextAsync();
    }

    [Fact]
    public async Task TheHandshakeAnswerFollowsRfc6455AndTokensAreMatchedInLists()
    {
        // The key and accept value are the example of RFC 6455 §1.3.
        using Socket socket = await _server.ConnectAsync();
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            "GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: keep-alive, UPGRADE\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a, b\r\nSec-WebSocket-Protocol: echo\r\n\r\n"));
        string answer = await ReadHeadAsync(socket);
        Assert.StartsWith("HTTP/1.1 101 Switching Protocols\r\n", answer);
        Assert.Contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", answer);
        Assert.Contains("\r\nSec-WebSocket-Protocol: echo\r\n", answer);
        Assert.Contains("\r\nUpgrade: websocket\r\n", answer);
        Assert.DoesNotContain("Content-Length", answer);
    }

    [Fact]
    public async Task FramesSentWithTheHandshakeInOneWriteAreEchoed()
    {
        // The first frame arrives in the same read as the request head: HTTP hands it over to the WebSocket.
        using Socket socket = await _server.ConnectAsync();
        byte[] head = Encoding.ASCII.GetBytes(
            "GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        byte[] frame = [0x81, 0x82, 1, 2, 3, 4, (byte)('h' ^ 1), (byte)('i' ^ 2)];
        await socket.SendAsync(head.Concat(frame).ToArray());
        byte[] received = await ReadAtLeastAsync(socket, 4, afterHead: true);
        Assert.Equal(new byte[] { 0x81, 0x02, (byte)'h', (byte)'i' }, received[..4]);
    }

    private async Task<Socket> HandshakeAsync()
    {
        Socket socket = await _server.ConnectAsync();
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            "GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 101 ", await ReadHeadAsync(socket));
        return socket;
    }

    /// <summary>Reads a response head byte by byte (so nothing after it is taken).</summary>
    private static async Task<string> ReadHeadAsync(Socket socket)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            int n = await socket.ReceiveAsync(one, SocketFlags.None, cts.Token);
            Assert.True(n == 1, $"the connection ended after: {head}");
            head.Append((char)one[0]);
        }
        return head.ToString();
    }

    private static async Task<byte[]> ReadAtLeastAsync(Socket socket, int count, bool afterHead)
    {
        if (afterHead)
        {
            await ReadHeadAsync(socket);
        }
        using var cts = new CancellationTokenSource(s_timeout);
        var received = new byte[count];
        int filled = 0;
        while (filled < count)
        {
            int n = await socket.ReceiveAsync(received.AsMemory(filled), SocketFlags.None, cts.Token);
            Assert.True(n > 0, "the connection ended early");
            filled += n;
        }
        return received;
    }

    /// <summary>Reads until the server closes the connection; the bytes, which should end in a close frame.</summary>
    private static async Task<byte[]> ReadFramesUntilCloseAsync(Socket socket)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
        {
            received.Write(buffer, 0, n);
        }
        return received.ToArray();
    }
}
