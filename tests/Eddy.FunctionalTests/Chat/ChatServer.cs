using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Eddy.Cli.Serve;
using Eddy.Loop;
using Eddy.Transports;
using Eddy.Web;

namespace Eddy.FunctionalTests.Chat;

/// <summary><c>eddy serve</c>'s chat alone, on a group of two loops, on 127.0.0.1:0, for one test.</summary>
internal sealed class ChatServer : IDisposable
{
    private readonly LoopGroup _loops = new(2);
    private readonly GroupServer _server;

    public ChatServer(int maxQueued = ChatRoom.DefaultMaxQueued)
    {
        Room = new ChatRoom(maxQueued);
        foreach (EventLoop loop in _loops.Loops)
        {
            loop.ExceptionHandler = (_, context) => Errors.Enqueue(context);
        }
        _loops.Start();
        _server = Room.Map(new WebApp()).ListenAsync(_loops, new IPEndPoint(IPAddress.Loopback, 0))
            .WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        EndPoint = (IPEndPoint)_server.EndPoint;
    }

    public ChatRoom Room { get; }

    public IPEndPoint EndPoint { get; }

    public IReadOnlyList<EventLoop> Loops => _loops.Loops;

    /// <summary>What reached the loops' exception handlers.</summary>
    public ConcurrentQueue<LoopExceptionContext> Errors { get; } = new();

    public Uri WebSocketUri => new($"ws://{EndPoint}/ws/chat");

    public void Dispose()
    {
        Assert.True(_server.CloseAsync().Wait(TimeSpan.FromSeconds(10)), "the server's listeners did not close within 10 s");
        Assert.True(_server.AbortClientsAsync().Wait(TimeSpan.FromSeconds(10)), "the server's connections were not aborted within 10 s");
        _loops.Dispose();
    }
}

/// <summary>A chat member over .NET's <see cref="ClientWebSocket"/>: every text message it receives lands in <see cref="Received"/>.</summary>
internal sealed class ChatClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly ClientWebSocket _socket = new();
    private readonly Channel<string> _received = Channel.CreateUnbounded<string>();
    private Task _reading = Task.CompletedTask;

    public WebSocket Socket => _socket;

    /// <summary>Completes when the reader stops: the peer closed (the close status is then on <see cref="Socket"/>).</summary>
    public Task Reading => _reading;

    public static async Task<ChatClient> ConnectAsync(Uri uri)
    {
        var client = new ChatClient();
        client._socket.Options.KeepAliveInterval = TimeSpan.Zero;
        using var cts = new CancellationTokenSource(Timeout);
        await client._socket.ConnectAsync(uri, cts.Token);
        client._reading = client.ReadAsync();
        return client;
    }

    private async Task ReadAsync()
    {
        try
        {
            await WebSocketMessages.ReadEachAsync(_socket, message => _received.Writer.TryWrite(Encoding.UTF8.GetString(message.Span)));
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection ended without a close handshake, or the test aborted it; the channel's end says so.
        }
        finally
        {
            _received.Writer.TryComplete();
        }
    }

    public Task SendAsync(string text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>The next message received that <paramref name="wanted"/> accepts (others are skipped); fails after the timeout.</summary>
    public async Task<string> NextAsync(Func<string, bool> wanted)
    {
        using var cts = new CancellationTokenSource(Timeout);
        while (true)
        {
            string message;
            try
            {
                message = await _received.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no wanted message within {Timeout.TotalSeconds} s");
            }
            if (wanted(message))
            {
                return message;
            }
        }
    }

    /// <summary>Waits for <c>{"online":N}</c> with this N (skipping everything before it).</summary>
    public Task WaitForOnlineAsync(int online) => NextAsync(m => m == $$"""{"online":{{online}}}""");

    public static bool IsPresence(string message) => message.StartsWith("""{"online":""", StringComparison.Ordinal);

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        await _reading.WaitAsync(Timeout);
    }
}
