using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Eddy.Cli.Serve;
using Eddy.FunctionalTests.Http;

namespace Eddy.FunctionalTests.Chat;

/// <summary>
/// <c>/ws/chat</c> without a browser: members spread over two loops, the fan-out (each message to every member exactly
/// once, in the sender's order), a member that does not read (closed with 1008, the others go on), members leaving,
/// and the limits.
/// </summary>
public sealed class ChatFanOutTests : IDisposable
{
    private readonly ChatServer _server = new();

    public void Dispose() => _server.Dispose();

    /// <summary>
    /// Connects members one at a time (each waits for its own join's presence, so it is in the room) until both loops
    /// hold at least <paramref name="perLoop"/>: the kernel spreads connections over the loops' listeners, not us.
    /// </summary>
    private static async Task<List<ChatClient>> JoinOnBothLoopsAsync(ChatServer server, int perLoop)
    {
        var members = new List<ChatClient>();
        for (int attempt = 0; attempt < 64; attempt++)
        {
            ChatClient member = await ChatClient.ConnectAsync(server.WebSocketUri);
            members.Add(member);
            await member.WaitForOnlineAsync(members.Count);
            if (server.Loops.All(loop => server.Room.MembersOn(loop) >= perLoop))
            {
                return members;
            }
        }
        throw new InvalidOperationException("64 connections did not reach both loops");
    }

    private static string Chat(string name, int i) => $$"""{"name":"{{name}}","text":"{{i}}"}""";

    [Fact]
    public async Task EveryMemberOnEitherLoopGetsEachMessageOnceInTheSendersOrder()
    {
        List<ChatClient> members = await JoinOnBothLoopsAsync(_server, perLoop: 3);
        try
        {
            Assert.Equal(members.Count, _server.Room.Online);
            // Two senders, as far apart as joining allows (the first and last joined are often on different loops).
            ChatClient a = members[0];
            ChatClient b = members[^1];
            const int Count = 100;
            Task sendA = Task.Run(async () =>
            {
                for (int i = 0; i < Count; i++)
                {
                    await a.SendAsync(Chat("a", i));
                }
                await a.SendAsync(Chat("a", -1)); // the end mark
            });
            Task sendB = Task.Run(async () =>
            {
                for (int i = 0; i < Count; i++)
                {
                    await b.SendAsync(Chat("b", i));
                }
                await b.SendAsync(Chat("b", -1));
            });
            await Task.WhenAll(members.Select(async member =>
            {
                var next = new Dictionary<string, int> { ["a"] = 0, ["b"] = 0 };
                int ended = 0;
                while (ended < 2)
                {
                    string message = await member.NextAsync(m => !ChatClient.IsPresence(m));
                    string name = message.Contains("\"a\"", StringComparison.Ordinal) ? "a" : "b";
                    if (message == Chat(name, -1))
                    {
                        // Each sender's messages arrive in order, so its end mark comes after all of them: none missing, none twice.
                        Assert.Equal(Count, next[name]);
                        ended++;
                        continue;
                    }
                    Assert.Equal(Chat(name, next[name]), message);
                    next[name]++;
                }
            }).Append(sendA).Append(sendB));
            Assert.Empty(_server.Errors);
        }
        finally
        {
            foreach (ChatClient member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task MembersThatCloseOrVanishAreRemovedAndTheOthersAreTold()
    {
        List<ChatClient> members = await JoinOnBothLoopsAsync(_server, perLoop: 2);
        try
        {
            int online = members.Count;
            ChatClient watcher = members[0];

            // A clean close handshake.
            using (var cts = new CancellationTokenSource(ChatClient.Timeout))
            {
                await members[^1].Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
            }
            await watcher.WaitForOnlineAsync(--online);

            // A connection cut without one (a reset).
            members[^2].Socket.Abort();
            await watcher.WaitForOnlineAsync(--online);

            Assert.Equal(online, _server.Room.Online);
            Assert.Equal(online, _server.Loops.Sum(loop => _server.Room.MembersOn(loop)));

            // The rest still hear each other.
            await watcher.SendAsync(Chat("w", 1));
            foreach (ChatClient member in members.Take(online))
            {
                Assert.Equal(Chat("w", 1), await member.NextAsync(m => !ChatClient.IsPresence(m)));
            }
        }
        finally
        {
            foreach (ChatClient member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AMemberThatDoesNotReadIsClosedWith1008AndTheOthersGoOn()
    {
        using var server = new ChatServer(maxQueued: 8);
        await using ChatClient a = await ChatClient.ConnectAsync(server.WebSocketUri);
        await a.WaitForOnlineAsync(1);
        await using ChatClient b = await ChatClient.ConnectAsync(server.WebSocketUri);
        await b.WaitForOnlineAsync(2);
        // The slow member: a raw socket with a small receive buffer that never reads until the end.
        using Socket slow = await HandshakeAsync(server.EndPoint, receiveBuffer: 4096);
        await a.WaitForOnlineAsync(3);

        // Messages of nearly 4 KiB, each sent once the last came back to both readers, until the slow one is dropped
        // (its leave is announced as {"online":2}); bounded: about 800 fill the kernel's buffers with the default tcp_wmem (4 MiB at most), 10,000 leave room for more.
        string filler = new('x', 3900);
        bool dropped = false;
        for (int i = 0; i < 10_000 && !dropped; i++)
        {
            string message = Chat(filler, i);
            await a.SendAsync(message);
            foreach (ChatClient reader in new[] { a, b })
            {
                string got = await reader.NextAsync(m => m == message || m == """{"online":2}""");
                if (got != message)
                {
                    dropped = true;
                    await reader.NextAsync(m => m == message);
                }
            }
        }
        Assert.True(dropped, "the slow member was never closed");
        Assert.Equal(1, server.Room.ClosedAsSlow);
        Assert.Equal(2, server.Room.Online);

        // The others go on.
        await b.SendAsync(Chat("b", 0));
        Assert.Equal(Chat("b", 0), await a.NextAsync(m => m == Chat("b", 0)));

        // The slow member, reading at last, finds a close frame with 1008 after what was sent before.
        (int code, string reason) = await ReadUntilCloseFrameAsync(slow);
        Assert.Equal(1008, code);
        Assert.Contains("Too slow", reason, StringComparison.Ordinal);
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task AMessageOver4KiBFailsItsSenderWith1009AndABinaryOneWith1003()
    {
        await using ChatClient a = await ChatClient.ConnectAsync(_server.WebSocketUri);
        await a.WaitForOnlineAsync(1);
        await using ChatClient big = await ChatClient.ConnectAsync(_server.WebSocketUri);
        await big.WaitForOnlineAsync(2);
        await big.SendAsync(new string('y', ChatRoom.MaxMessageSize + 1));
        await big.Reading.WaitAsync(ChatClient.Timeout);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, big.Socket.CloseStatus);
        await a.WaitForOnlineAsync(1);

        await using ChatClient binary = await ChatClient.ConnectAsync(_server.WebSocketUri);
        await binary.WaitForOnlineAsync(2);
        await binary.Socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        await binary.Reading.WaitAsync(ChatClient.Timeout);
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, binary.Socket.CloseStatus);
        await a.WaitForOnlineAsync(1);

        // Exactly the limit still goes through.
        string largest = new('z', ChatRoom.MaxMessageSize);
        await a.SendAsync(largest);
        Assert.Equal(largest, await a.NextAsync(m => !ChatClient.IsPresence(m)));
    }

    [Fact]
    public async Task EddyServesDemoAppHasThePageAndItsSocket()
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        string answer = await server.RawAsync("GET /chat HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 ", answer);
        Assert.Contains("Content-Type: text/html; charset=utf-8", answer, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\"/ws/chat\"", answer, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"innerHTML\s*\+?=|outerHTML|insertAdjacentHTML|document\.write", answer); // text goes in as text

        await using ChatClient member = await ChatClient.ConnectAsync(new Uri($"ws://{server.EndPoint}/ws/chat"));
        await member.WaitForOnlineAsync(1);
        await member.SendAsync(Chat("me", 1));
        Assert.Equal(Chat("me", 1), await member.NextAsync(m => !ChatClient.IsPresence(m)));
    }

    /// <summary>A WebSocket handshake on a raw socket whose receive buffer is set before connecting (so it stays small).</summary>
    private static async Task<Socket> HandshakeAsync(System.Net.IPEndPoint endPoint, int receiveBuffer)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = receiveBuffer };
        using var cts = new CancellationTokenSource(ChatClient.Timeout);
        await socket.ConnectAsync(endPoint, cts.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            "GET /ws/chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
            cts.Token);
        // The answer's head, a byte at a time so no frame after it is taken.
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || !head[^4..].SequenceEqual("\r\n\r\n"u8.ToArray()))
        {
            Assert.Equal(1, await socket.ReceiveAsync(one, SocketFlags.None, cts.Token));
            head.Add(one[0]);
        }
        Assert.StartsWith("HTTP/1.1 101 ", Encoding.ASCII.GetString([.. head]));
        return socket;
    }

    /// <summary>Reads the server's (unmasked) frames until a close frame; its code and reason.</summary>
    private static async Task<(int Code, string Reason)> ReadUntilCloseFrameAsync(Socket socket)
    {
        using var cts = new CancellationTokenSource(ChatClient.Timeout);
        var stream = new NetworkStream(socket, ownsSocket: false);
        var header = new byte[8];
        while (true)
        {
            await stream.ReadExactlyAsync(header.AsMemory(0, 2), cts.Token);
            int opcode = header[0] & 0x0F;
            long length = header[1] & 0x7F;
            if (length == 126)
            {
                await stream.ReadExactlyAsync(header.AsMemory(0, 2), cts.Token);
                length = (header[0] << 8) | header[1];
            }
            else if (length == 127)
            {
                await stream.ReadExactlyAsync(header.AsMemory(0, 8), cts.Token);
                length = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(header);
            }
            var payload = new byte[length];
            await stream.ReadExactlyAsync(payload, cts.Token);
            if (opcode == 0x8)
            {
                return ((payload[0] << 8) | payload[1], Encoding.UTF8.GetString(payload, 2, payload.Length - 2));
            }
        }
    }
}
