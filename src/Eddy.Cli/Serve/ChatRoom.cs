using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using Eddy.Http;
using Eddy.Loop;
using Eddy.Web;
using Eddy.WebSockets;

namespace Eddy.Cli.Serve;

/// <summary>
/// <c>eddy serve</c>'s chat: the page <c>/chat</c> and the WebSocket <c>/ws/chat</c>, where every text message
/// received is sent to every member (the sender too), whichever loop of the group holds the member.
/// </summary>
/// <remarks>
/// Fan-out: each loop has a <see cref="LoopRoom"/> holding its members, touched only on that loop's thread. A
/// message is copied once and handed to every loop's room: to the sender's own room at once, to the others through
/// their inbox (a lock-free queue) and one <see cref="EventLoop.CallSoonThreadSafe(Action{object?}, object?)"/> per
/// batch, so every send happens on the member's own loop. The only lock guards the list of rooms, taken when a
/// loop's first member joins. A sender's messages reach each room in the order sent (one FIFO inbox per room).
/// Bounds: a message is at most <see cref="MaxMessageSize"/> bytes (larger fails the connection with 1009); a
/// member that does not read has at most the transport's high-water mark buffered plus <see cref="MaxQueued"/>
/// messages queued, and the next message closes it with 1008 (policy violation): it is removed from the room at
/// once, and its queue freed. A binary message closes the sender with 1003 (the chat is text).
/// Members get <c>{"online":N}</c> when someone joins or leaves; all other messages are relayed as received.
/// </remarks>
internal sealed class ChatRoom
{
    /// <summary>The largest message accepted, in bytes (after the handshake's limit, a larger one fails with 1009).</summary>
    public const int MaxMessageSize = 4 * 1024;

    /// <summary>How many messages may wait for a member whose connection is not draining, by default.</summary>
    public const int DefaultMaxQueued = 256;

    private static readonly Action<object?> s_drainInbox = state => ((LoopRoom)state!).DrainInbox();

    private readonly object _gate = new();
    private readonly WebSocketOptions _options = new() { MaxMessageSize = MaxMessageSize };
    private LoopRoom[] _rooms = [];     // copy-on-write under _gate; read without it
    private int _online;                // members over all loops (Interlocked)
    private long _closedAsSlow;         // members closed with 1008 (Interlocked)

    /// <summary>A room whose slow members are closed after <paramref name="maxQueued"/> waiting messages.</summary>
    public ChatRoom(int maxQueued = DefaultMaxQueued)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueued, 1);
        MaxQueued = maxQueued;
    }

    /// <summary>How many messages may wait for a member whose connection is not draining before it is closed (1008).</summary>
    public int MaxQueued { get; }

    /// <summary>Members over all loops; callable from any thread.</summary>
    public int Online => Volatile.Read(ref _online);

    /// <summary>Members closed with 1008 because they did not read; callable from any thread.</summary>
    public long ClosedAsSlow => Interlocked.Read(ref _closedAsSlow);

    /// <summary>Members on <paramref name="loop"/>; callable from any thread.</summary>
    public int MembersOn(EventLoop loop)
    {
        foreach (LoopRoom room in Volatile.Read(ref _rooms))
        {
            if (room.Loop == loop)
            {
                return Volatile.Read(ref room.Count);
            }
        }
        return 0;
    }

    /// <summary>Adds <c>GET /chat</c> (the page) and <c>/ws/chat</c> (the WebSocket) to <paramref name="app"/>.</summary>
    public WebApp Map(WebApp app)
    {
        app.MapGet("/chat", context => context.Response.Text(ChatPage.Html, "text/html; charset=utf-8"));
        app.MapWebSocket("/ws/chat", RunMemberAsync, _options);
        return app;
    }

    /// <summary>One member's life: join, relay every message it sends, leave (however the connection ends).</summary>
    private async ValueTask RunMemberAsync(HttpContext context, WebSocketConnection webSocket)
    {
        var member = new Member(this, RoomOf(webSocket.Loop), webSocket);
        member.Room.Add(member);
        Broadcast(Presence(Interlocked.Increment(ref _online)));
        try
        {
            while (true)
            {
                // Wait for a message without a buffer: an idle member holds none.
                ValueWebSocketReceiveResult next = await webSocket.ReceiveAsync(Memory<byte>.Empty);
                if (next.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                if (next.MessageType == WebSocketMessageType.Binary)
                {
                    await webSocket.CloseAsync(WebSocketCloseStatus.InvalidMessageType, "The chat takes text messages only.");
                    return;
                }
                byte[]? message = await ReceiveTextAsync(webSocket, next.EndOfMessage);
                if (message is null)
                {
                    return;
                }
                Broadcast(message);
            }
        }
        finally
        {
            Leave(member);
        }
    }

    /// <summary>The rest of a text message, copied out (it is shared by every member's queue); null if the peer closed.</summary>
    private static async ValueTask<byte[]?> ReceiveTextAsync(WebSocketConnection webSocket, bool empty)
    {
        if (empty)
        {
            return [];
        }
        // The connection's MaxMessageSize (4 KiB) bounds what arrives, so the buffer never fills before the end.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxMessageSize);
        try
        {
            int filled = 0;
            ValueWebSocketReceiveResult received;
            do
            {
                received = await webSocket.ReceiveAsync(buffer.AsMemory(filled));
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }
                filled += received.Count;
            }
            while (!received.EndOfMessage);
            return buffer.AsSpan(0, filled).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static byte[] Presence(int online) => Encoding.UTF8.GetBytes($$"""{"online":{{online}}}""");

    /// <summary>Hands <paramref name="message"/> to every loop's room: at once on this loop, through the inbox on the others.</summary>
    private void Broadcast(byte[] message)
    {
        foreach (LoopRoom room in Volatile.Read(ref _rooms))
        {
            if (room.Loop.IsOnLoopThread)
            {
                room.Deliver(message);
            }
            else
            {
                room.Post(message);
            }
        }
    }

    /// <summary>The room of <paramref name="loop"/>, made when its first member joins.</summary>
    private LoopRoom RoomOf(EventLoop loop)
    {
        foreach (LoopRoom room in Volatile.Read(ref _rooms))
        {
            if (room.Loop == loop)
            {
                return room;
            }
        }
        lock (_gate)
        {
            foreach (LoopRoom room in _rooms)
            {
                if (room.Loop == loop)
                {
                    return room;
                }
            }
            var made = new LoopRoom(loop);
            Volatile.Write(ref _rooms, [.. _rooms, made]);
            return made;
        }
    }

    /// <summary>Removes <paramref name="member"/> (once) and tells the others; on the member's loop.</summary>
    private void Leave(Member member)
    {
        if (member.HasLeft)
        {
            return;
        }
        member.HasLeft = true;
        member.Room.Remove(member);
        Broadcast(Presence(Interlocked.Decrement(ref _online)));
    }

    /// <summary>A member with <see cref="MaxQueued"/> messages waiting: closed with 1008 and removed at once.</summary>
    private void CloseAsSlow(Member member)
    {
        Interlocked.Increment(ref _closedAsSlow);
        Leave(member);
        // The close frame waits behind what the transport holds; the close timeout aborts a peer that never reads it.
        _ = member.WebSocket.CloseAsync(WebSocketCloseStatus.PolicyViolation, $"Too slow: {MaxQueued} messages were waiting.").AsTask();
    }

    /// <summary>One loop's members; everything but <see cref="Post"/> and <see cref="Count"/> on that loop's thread only.</summary>
    private sealed class LoopRoom(EventLoop loop)
    {
        private readonly List<Member> _members = [];
        private readonly ConcurrentQueue<byte[]> _inbox = new();     // from other loops, FIFO per producer
        private readonly Queue<byte[]> _deferred = new();            // broadcast while a delivery runs (a leave's presence)
        private int _drainScheduled;                                 // 1 while a DrainInbox is queued on the loop (Interlocked)
        private bool _delivering;
        private bool _someLeft;

        public EventLoop Loop { get; } = loop;

        /// <summary>The members' count, written on the loop thread, read from any.</summary>
        public int Count;

        public void Add(Member member)
        {
            _members.Add(member);
            Volatile.Write(ref Count, Count + 1);
        }

        public void Remove(Member member)
        {
            Volatile.Write(ref Count, Count - 1);
            if (_delivering)
            {
                _someLeft = true; // compacted when the delivery ends, so it walks a stable list
                return;
            }
            _members.Remove(member);
        }

        /// <summary>From another loop's thread: queue the message; the first in a batch schedules the drain.</summary>
        public void Post(byte[] message)
        {
            _inbox.Enqueue(message);
            if (Interlocked.Exchange(ref _drainScheduled, 1) == 0)
            {
                try
                {
                    Loop.CallSoonThreadSafe(s_drainInbox, this);
                }
                catch (ObjectDisposedException)
                {
                    // The loop is closed (the server is stopping): its members are gone with it.
                }
            }
        }

        public void DrainInbox()
        {
            // Reset before draining: a producer that saw 1 enqueued before this point, so the loop below sees its message.
            Volatile.Write(ref _drainScheduled, 0);
            while (_inbox.TryDequeue(out byte[]? message))
            {
                Deliver(message);
            }
        }

        public void Deliver(byte[] message)
        {
            if (_delivering)
            {
                _deferred.Enqueue(message);
                return;
            }
            _delivering = true;
            try
            {
                while (true)
                {
                    for (int i = 0; i < _members.Count; i++)
                    {
                        _members[i].Send(message);
                    }
                    if (!_deferred.TryDequeue(out byte[]? next))
                    {
                        break;
                    }
                    message = next;
                }
            }
            finally
            {
                _delivering = false;
                if (_someLeft)
                {
                    _someLeft = false;
                    _members.RemoveAll(static m => m.HasLeft);
                }
            }
        }
    }

    /// <summary>One connection of the chat: its messages go out in order, on its loop, at most MaxQueued waiting.</summary>
    private sealed class Member(ChatRoom chat, LoopRoom room, WebSocketConnection webSocket)
    {
        private readonly Queue<byte[]> _queued = new();
        private bool _sending;      // a send is waiting for the transport to drain; later messages queue

        public LoopRoom Room { get; } = room;

        public WebSocketConnection WebSocket { get; } = webSocket;

        public bool HasLeft { get; set; }

        public void Send(byte[] message)
        {
            if (HasLeft)
            {
                return;
            }
            if (_sending)
            {
                if (_queued.Count >= chat.MaxQueued)
                {
                    _queued.Clear();
                    chat.CloseAsSlow(this);
                    return;
                }
                _queued.Enqueue(message);
                return;
            }
            ValueTask sent;
            try
            {
                sent = WebSocket.SendTextAsync(message);
            }
            catch (Exception error) when (error is WebSocketException or InvalidOperationException)
            {
                chat.Leave(this); // closing or closed: its handler's end removes it too
                return;
            }
            if (sent.IsCompletedSuccessfully)
            {
                sent.GetAwaiter().GetResult();
                return;
            }
            _ = SendQueuedAsync(sent); // the transport is above its high-water mark: the rest waits in order
        }

        private async Task SendQueuedAsync(ValueTask sending)
        {
            _sending = true;
            try
            {
                await sending;
                while (!HasLeft && _queued.TryDequeue(out byte[]? next))
                {
                    await WebSocket.SendTextAsync(next);
                }
            }
            catch (Exception error) when (error is WebSocketException or InvalidOperationException)
            {
                chat.Leave(this);
            }
            finally
            {
                _sending = false;
                _queued.Clear();
            }
        }
    }
}
