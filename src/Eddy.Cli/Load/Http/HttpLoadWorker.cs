using System.Diagnostics;
using System.Net.Security;
using System.Security.Authentication;
using Eddy.Loop;
using Eddy.Tls;
using Eddy.Transports;
using HdrHistogram;

namespace Eddy.Cli.Load.Http;

/// <summary>
/// One event loop's share of the load: its connections, and every counter and histogram they write.
/// Only this loop's thread writes them, so the hot path takes no lock and shares no cache line with
/// another loop; the engine merges them once the loops have stopped (the progress line reads a few
/// counters racily meanwhile). Timers: the run's deadline, a watchdog for timeouts, and with <c>-R</c>
/// one pacing ticker for all the loop's connections.
/// </summary>
internal sealed class HttpLoadWorker
{
    private static readonly Action<object?> s_start = static s => ((HttpLoadWorker)s!).Start();
    private static readonly Action<object?> s_stop = static s => ((HttpLoadWorker)s!).Stop();
    private static readonly Action<object?> s_stopped = static s => ((HttpLoadWorker)s!)._load.OnWorkerStopped();
    private static readonly Action<object?> s_onTick = static s => ((HttpLoadWorker)s!).OnTick();
    private static readonly Action<object?> s_onWatchdog = static s => ((HttpLoadWorker)s!).OnWatchdog();
    private static readonly Action<object?> s_reconnect = static s => { var c = (HttpLoadConnection)s!; c.Worker.Connect(c); };

    /// <summary>After a failed connect, wait this long before the next try, so a dead server is not hammered in a spin.</summary>
    private static readonly TimeSpan ReconnectPause = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// With <c>-R</c>, a request may go this much before its scheduled time. The loop's timers fire up to a
    /// millisecond late (epoll_wait takes whole milliseconds, rounded up); without the lead that lateness —
    /// the load generator's, not the server's — would be charged to every request's latency (measured: p50
    /// 755 µs against 134 µs from the actual write, at 2,000 req/s). A request sent early counts its
    /// latency from the actual write, so nothing is hidden either way.
    /// </summary>
    public static readonly long PacingLeadTicks = Stopwatch.Frequency / 1000;

    private static readonly double MicrosecondsPerTick = 1_000_000.0 / Stopwatch.Frequency;

    private readonly HttpLoad _load;
    private readonly EventLoop _loop;
    private readonly List<HttpLoadConnection> _connections = [];
    private readonly long _highestUs;
    private readonly long _timeoutTicks;
    private readonly TimeSpan _watchdogPeriod;
    private int _finishedConnections;
    private TimerHandle _ticker;
    private long _tickerDue;
    private TimerHandle _watchdog;
    private TimerHandle _deadline;

    public HttpLoadWorker(HttpLoad load, EventLoop loop, long highestUs)
    {
        _load = load;
        _loop = loop;
        Settings = load.Settings;
        _highestUs = highestUs;
        _timeoutTicks = (long)(Settings.Timeout.TotalSeconds * Stopwatch.Frequency);
        // The watchdog looks at every connection each period: a timeout is noticed up to one period late.
        _watchdogPeriod = TimeSpan.FromTicks(Math.Clamp(Settings.Timeout.Ticks / 10, TimeSpan.TicksPerMillisecond, 100 * TimeSpan.TicksPerMillisecond));
        RequestLength = Settings.Request.Length;
        RequestBatch = [];
        if (Settings.Body is null) // else requests are written one by one, head then body
        {
            RequestBatch = new byte[RequestLength * Settings.Pipeline];
            for (int i = 0; i < Settings.Pipeline; i++)
            {
                Settings.Request.CopyTo(RequestBatch, i * RequestLength);
            }
        }
        HasRequestLimit = Settings.Requests is not null;
        Latency = new LongHistogram(highestUs, numberOfSignificantValueDigits: 3);
        ConnectLatency = new LongHistogram(highestUs, numberOfSignificantValueDigits: 3);
        HandshakeLatency = Settings.IsTls ? new LongHistogram(highestUs, numberOfSignificantValueDigits: 3) : null;
        UncorrectedLatency = Settings.IsPaced ? new LongHistogram(highestUs, numberOfSignificantValueDigits: 3) : null;
        loop.ExceptionHandler = (_, context) => LoopErrors.Add(context);
    }

    public HttpLoadSettings Settings { get; }

    /// <summary>
    /// <see cref="HttpLoadSettings.Pipeline"/> copies of the request, back to back: a batch is one write of a prefix of it.
    /// Empty with a streamed body (<see cref="HttpLoadSettings.Body"/>).
    /// </summary>
    public byte[] RequestBatch { get; }

    public int RequestLength { get; }

    public bool HasRequestLimit { get; }

    /// <summary>The deadline passed, the requests ran out, or the run was interrupted. Loop thread only.</summary>
    public bool IsStopping { get; private set; }

    // The figures. Loop thread only while running (the progress line reads Responses and Errors racily).
    public long Responses;
    public long RequestsSent;
    public long BytesRead;
    public long ClosedByServer;
    public long ConnectionsOpened;
    public readonly long[] StatusCounts = new long[600];
    public readonly LoadErrorTally Errors = new();
    public readonly List<LoopExceptionContext> LoopErrors = [];

    /// <summary>Microseconds from each request's intended send time to the last byte of its response.</summary>
    public LongHistogram Latency { get; }

    /// <summary>With <c>-R</c>: microseconds from the actual write instead — what a load generator without the correction would report.</summary>
    public LongHistogram? UncorrectedLatency { get; }

    /// <summary>Microseconds each TCP connect took (connect(2) until the socket is writable).</summary>
    public LongHistogram ConnectLatency { get; }

    /// <summary>Over TLS: microseconds each handshake took, from the TCP connect to the protocol's ConnectionMade. Null over plain HTTP.</summary>
    public LongHistogram? HandshakeLatency { get; }

    /// <summary>Over TLS: the version and cipher suite of the first connection (null until one is made).</summary>
    public (SslProtocols Version, TlsCipherSuite CipherSuite)? TlsSession { get; private set; }

    public long EndTimestamp { get; private set; }

    /// <summary>The run's time zero (set before any loop starts).</summary>
    public long StartTimestamp => _load.StartTimestamp;

    public void Add(HttpLoadConnection connection) => _connections.Add(connection);

    /// <summary>From the engine's thread: start this loop's connections at its next tick.</summary>
    public void RequestStart() => _loop.CallSoonThreadSafe(s_start, this);

    /// <summary>From any thread: stop at the loop's next tick.</summary>
    public void RequestStop()
    {
        try
        {
            _loop.CallSoonThreadSafe(s_stop, this);
        }
        catch (ObjectDisposedException)
        {
            // The loop is closed: nothing left to stop.
        }
    }

    private void Start()
    {
        if (IsStopping)
        {
            return; // interrupted before the start
        }
        if (Settings.Duration is { } duration)
        {
            long deadline = _load.StartTimestamp + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            _deadline = _loop.CallLater(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline), s_stop, this);
        }
        _watchdog = _loop.CallLater(_watchdogPeriod, s_onWatchdog, this);
        if (_connections.Count == 0)
        {
            Stop();
            return;
        }
        foreach (HttpLoadConnection connection in _connections)
        {
            Connect(connection);
        }
    }

    public void Connect(HttpLoadConnection connection)
    {
        if (IsStopping || connection.IsConnecting || connection.IsConnected || connection.IsFinished)
        {
            return;
        }
        if (connection.IsDone)
        {
            Finish(connection);
            return;
        }
        connection.IsConnecting = true;
        _ = ConnectAsync(connection);
    }

    /// <summary>
    /// Connects the slot: TCP, then over TLS the handshake, both within the timeout. A failure of either is a connect
    /// error, counted with its cause (an errno name, "timeout", or the handshake's reason), and the slot tries again.
    /// </summary>
    private async Task ConnectAsync(HttpLoadConnection connection)
    {
        using var timeout = new CancellationTokenSource(Settings.Timeout);
        connection.PendingConnect = timeout;
        connection.OnConnectStarting();
        try
        {
            if (Settings.Tls is { } tls)
            {
                await _loop.ConnectAsync(connection.Factory, Settings.Target, tls, timeout.Token);
            }
            else
            {
                await _loop.ConnectAsync(connection.Factory, Settings.Target, timeout.Token);
            }
            connection.PendingConnect = null;
        }
        catch (Exception e) when (e is PosixException or OperationCanceledException or AuthenticationException or IOException or TimeoutException)
        {
            connection.PendingConnect = null;
            connection.OnConnectFailed();
            if (IsStopping)
            {
                return;
            }
            CountError(LoadErrorKind.Connect, ConnectErrorCause(e), 1);
            if (connection.IsDone)
            {
                Finish(connection);
            }
            else
            {
                _loop.CallLater(ReconnectPause, s_reconnect, connection);
            }
        }
    }

    /// <summary>Why a connect failed, in a few words that group alike failures together in the report.</summary>
    internal static string ConnectErrorCause(Exception e) => e switch
    {
        PosixException p => p.ErrnoName,
        OperationCanceledException => "timeout",
        TimeoutException => "TLS handshake timeout",
        AuthenticationException => $"TLS handshake failed: {e.Message}",
        _ => $"TLS handshake: {e.Message}",
    };

    /// <summary>A connection was made (and over TLS its handshake succeeded): counts it and its times, in Stopwatch ticks.</summary>
    public void RecordConnection(Transport transport, long connectTicks, long handshakeTicks)
    {
        if (IsStopping)
        {
            return;
        }
        ConnectionsOpened++;
        ConnectLatency.RecordValue(ToMicroseconds(connectTicks));
        if (HandshakeLatency is not null && transport is TlsTransport tls)
        {
            HandshakeLatency.RecordValue(ToMicroseconds(handshakeTicks));
            TlsSession ??= (tls.TlsVersion, tls.CipherSuite);
        }
    }

    /// <summary>The connection is gone (closed by the server, by us, or failed): connect again, or count the slot finished.</summary>
    public void OnConnectionLost(HttpLoadConnection connection)
    {
        if (connection.IsDone)
        {
            Finish(connection);
        }
        else
        {
            _loop.CallSoon(s_reconnect, connection);
        }
    }

    private void Finish(HttpLoadConnection connection)
    {
        if (connection.IsFinished)
        {
            return;
        }
        connection.IsFinished = true;
        if (++_finishedConnections == _connections.Count)
        {
            Stop();
        }
    }

    public void RecordResponse(int status, long latencyTicks, long uncorrectedTicks)
    {
        Responses++;
        if ((uint)status < (uint)StatusCounts.Length)
        {
            StatusCounts[status]++;
        }
        Latency.RecordValue(ToMicroseconds(latencyTicks));
        UncorrectedLatency?.RecordValue(ToMicroseconds(uncorrectedTicks));
    }

    private long ToMicroseconds(long ticks) => Math.Clamp((long)(ticks * MicrosecondsPerTick), 0, _highestUs);

    /// <summary>Counts <paramref name="requests"/> requests that ended in an error (failures are rare: a dictionary is fine here).</summary>
    public void CountError(LoadErrorKind kind, string cause, long requests)
    {
        if (IsStopping)
        {
            return; // at the deadline or on a signal, requests in flight are abandoned, not failed
        }
        Errors.Count(kind, cause, requests);
    }

    /// <summary>
    /// With <c>-R</c>: makes sure the ticker fires by <paramref name="due"/>. One timer serves the whole loop,
    /// and each tick sends every request whose time has passed, so the loop's millisecond timer resolution
    /// delays a request by under a millisecond (charged to its latency) but never caps the rate.
    /// </summary>
    public void ArmTicker(long due)
    {
        if (_ticker.IsPending)
        {
            if (due >= _tickerDue)
            {
                return;
            }
            _ticker.Cancel();
        }
        _tickerDue = due;
        _ticker = _loop.CallLater(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), Math.Max(due, Stopwatch.GetTimestamp())), s_onTick, this);
    }

    private void OnTick()
    {
        foreach (HttpLoadConnection connection in _connections)
        {
            connection.SendReady();
        }
    }

    /// <summary>Times out overdue requests: one scan per period instead of a timer per request.</summary>
    private void OnWatchdog()
    {
        if (IsStopping)
        {
            return;
        }
        long now = Stopwatch.GetTimestamp();
        foreach (HttpLoadConnection connection in _connections)
        {
            long since = connection.WaitingSince;
            if (since != 0 && now - since > _timeoutTicks)
            {
                connection.TimeOut();
            }
        }
        _watchdog = _loop.CallLater(_watchdogPeriod, s_onWatchdog, this);
    }

    /// <summary>On the loop: the run is over for this loop. Requests in flight are abandoned without counting as errors.</summary>
    private void Stop()
    {
        if (IsStopping)
        {
            return;
        }
        IsStopping = true;
        EndTimestamp = Stopwatch.GetTimestamp();
        _deadline.Cancel();
        _watchdog.Cancel();
        _ticker.Cancel();
        foreach (HttpLoadConnection connection in _connections)
        {
            connection.PendingConnect?.Cancel(); // on the loop thread: the connect fails and closes its socket now
            connection.Abort();
        }
        // The transports close their sockets in callbacks queued by Abort: tell the engine (which then stops
        // the loop) only after those have run, so no socket outlives the run — a server waiting for our
        // close, like the warm-up's responder, is not left hanging.
        _loop.CallSoon(s_stopped, this);
    }
}
