using System.Diagnostics;
using System.Net.WebSockets;
using Eddy.Loop;
using Eddy.WebSockets;
using HdrHistogram;

namespace Eddy.Cli.Load.Ws;

/// <summary>
/// One loop's share of <c>eddy load ws</c>: its connections, each an async echo loop on this loop (Eddy's own
/// client: <see cref="EventLoopWebSocketExtensions"/>) that keeps <see cref="WsLoadSettings.Pipeline"/> messages in
/// flight and records each one's latency, send to last byte of its echo. A watchdog on the loop's timers aborts a
/// connection whose echo is late (a timeout) and, once the run is interrupted, every one still waiting. A connection
/// that fails is counted once and not replaced. Loop thread only.
/// </summary>
internal sealed class WsLoadWorker(WsLoad owner, EventLoop loop, int connectionCount, long highestUs)
{
    private static readonly TimeSpan WatchdogPeriod = TimeSpan.FromMilliseconds(100);

    private readonly List<Connection> _connections = new(connectionCount);
    private TimerHandle _watchdog;

    public EventLoop Loop => loop;

    public LongHistogram Latency { get; } = new(Math.Max(highestUs, 2), 3);

    public LoadErrorTally Errors { get; } = new();

    public long Messages { get; private set; }

    public int Connected { get; private set; }

    /// <summary>When the last connection of this loop finished echoing.</summary>
    public long EndTimestamp { get; private set; }

    public async Task ConnectAllAsync()
    {
        var connecting = new Task[connectionCount];
        for (int i = 0; i < connecting.Length; i++)
        {
            connecting[i] = ConnectAsync();
        }
        await Task.WhenAll(connecting);
    }

    private async Task ConnectAsync()
    {
        try
        {
            WebSocketConnection ws = await loop.ConnectWebSocketAsync(owner.Settings.Target, owner.Settings.Client);
            _connections.Add(new Connection(ws));
            Connected++;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            Errors.Count(LoadErrorKind.Connect, e switch
            {
                WebSocketHandshakeException h => $"handshake: {h.Failure}{(h.StatusCode is int code and not 101 ? $" ({code})" : "")}",
                _ => Http.HttpLoadWorker.ConnectErrorCause(e),
            });
        }
    }

    public async Task RunAsync()
    {
        _watchdog = loop.CallLater(WatchdogPeriod, Watchdog);
        try
        {
            if (owner.Settings.IsIdle)
            {
                try
                {
                    await loop.Delay(owner.Settings.Duration, owner.StopToken);
                }
                catch (OperationCanceledException)
                {
                    // interrupted: the connections are counted and closed as at the end
                }
                Connected = _connections.Count(c => c.Socket.State == WebSocketState.Open); // still open at the end
            }
            else
            {
                var echoing = new Task[_connections.Count];
                for (int i = 0; i < echoing.Length; i++)
                {
                    echoing[i] = EchoAsync(_connections[i]);
                }
                await Task.WhenAll(echoing);
            }
            EndTimestamp = Stopwatch.GetTimestamp();
            var closing = new Task[_connections.Count];
            for (int i = 0; i < closing.Length; i++)
            {
                closing[i] = CloseAsync(_connections[i]);
            }
            await Task.WhenAll(closing);
        }
        finally
        {
            _watchdog.Cancel();
        }
    }

    /// <summary>Sends up to the pipeline depth, then takes one echo, checks it and records its latency; until no message is left to start.</summary>
    private async Task EchoAsync(Connection c)
    {
        WsLoadSettings settings = owner.Settings;
        byte[] payload = owner.Payload;
        byte[] buffer = new byte[payload.Length + 1]; // one more: a longer echo is seen as one
        long[] sentAt = new long[settings.Pipeline];
        int oldest = 0;
        int inFlight = 0;
        WebSocketMessageType type = settings.IsText ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
        bool sending = false;
        try
        {
            while (true)
            {
                while (inFlight < settings.Pipeline && owner.TryTakeMessage())
                {
                    long now = Stopwatch.GetTimestamp();
                    sentAt[(oldest + inFlight) % sentAt.Length] = now;
                    if (inFlight == 0)
                    {
                        c.WaitingSince = now;
                    }
                    inFlight++;
                    sending = true;
                    await c.Socket.SendAsync(payload, type);
                    sending = false;
                }
                if (inFlight == 0)
                {
                    return;
                }
                int count = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await c.Socket.ReceiveAsync(buffer.AsMemory(Math.Min(count, payload.Length)));
                    count += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                long done = Stopwatch.GetTimestamp();
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Errors.Count(LoadErrorKind.Read, $"closed by the server ({(int?)c.Socket.CloseStatus})");
                    return;
                }
                if (result.MessageType != type || count != payload.Length || !buffer.AsSpan(0, count).SequenceEqual(payload))
                {
                    Errors.Count(LoadErrorKind.Mismatch, result.MessageType != type ? $"{result.MessageType} echo of a {type} message" : count != payload.Length ? "echo of another length" : "echo of other bytes");
                    c.Socket.Abort();
                    return;
                }
                long started = sentAt[oldest];
                oldest = (oldest + 1) % sentAt.Length;
                inFlight--;
                c.WaitingSince = inFlight == 0 ? 0 : done;
                if (done < owner.DeadlineTimestamp)
                {
                    Messages++;
                    Latency.RecordValue(Math.Clamp((done - started) * 1_000_000 / Stopwatch.Frequency, 0, Latency.HighestTrackableValue));
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or InvalidOperationException)
        {
            if (c.TimedOut)
            {
                Errors.Count(LoadErrorKind.Timeout, sending ? "write" : "read");
            }
            else if (!c.Abandoned)
            {
                Errors.Count(sending ? LoadErrorKind.Write : LoadErrorKind.Read, e is WebSocketException w ? w.WebSocketErrorCode.ToString() : e.GetType().Name);
            }
        }
        finally
        {
            c.WaitingSince = 0;
        }
    }

    /// <summary>The close handshake of a connection still open (bounded by the client's close timeout).</summary>
    private async Task CloseAsync(Connection c)
    {
        if (c.Socket.State != WebSocketState.Open || owner.IsInterrupted)
        {
            c.Socket.Abort();
            return;
        }
        try
        {
            await c.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null);
        }
        catch (WebSocketException)
        {
            // The run is over and counted: a peer that does not finish the close changes none of its figures.
        }
    }

    /// <summary>Every 100 ms: aborts a connection whose oldest echo is later than the timeout, and every waiting one after an interrupt.</summary>
    private void Watchdog()
    {
        long now = Stopwatch.GetTimestamp();
        long limit = (long)(owner.Settings.Timeout.TotalSeconds * Stopwatch.Frequency);
        foreach (Connection c in _connections)
        {
            if (c.WaitingSince == 0 || c.Socket.State != WebSocketState.Open)
            {
                continue;
            }
            if (owner.IsInterrupted)
            {
                c.Abandoned = true;
                c.Socket.Abort();
            }
            else if (now - c.WaitingSince > limit)
            {
                c.TimedOut = true;
                c.Socket.Abort();
            }
        }
        _watchdog = loop.CallLater(WatchdogPeriod, Watchdog);
    }

    private sealed class Connection(WebSocketConnection socket)
    {
        public WebSocketConnection Socket { get; } = socket;

        /// <summary>When the oldest echo in flight was sent (or the last one came back); 0 when none is awaited.</summary>
        public long WaitingSince;

        public bool TimedOut;

        public bool Abandoned;
    }
}
