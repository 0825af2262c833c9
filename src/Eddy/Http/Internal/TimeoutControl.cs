namespace Eddy.Http.Internal;

/// <summary>Why a connection's time ran out; each reason has its own consequence (see <see cref="HttpConnection"/>).</summary>
internal enum TimeoutReason : byte
{
    None,

    /// <summary>Idle between requests longer than <see cref="HttpServerOptions.KeepAliveTimeout"/>: closed quietly.</summary>
    KeepAlive,

    /// <summary>A request head took longer than <see cref="HttpServerOptions.RequestHeadersTimeout"/> from its first byte (slowloris): 408.</summary>
    RequestHeaders,

    /// <summary>The unread body of an answered request did not arrive within <see cref="HttpServerOptions.RequestBodyDrainTimeout"/>: closed.</summary>
    RequestBodyDrain,

    /// <summary>A body arrives slower than <see cref="HttpServerOptions.MinRequestBodyDataRate"/>: 408.</summary>
    ReadDataRate,

    /// <summary>The client takes its response slower than <see cref="HttpServerOptions.MinResponseDataRate"/>: aborted.</summary>
    WriteDataRate,

    /// <summary>A lingering close waited <c>HttpConnection.LingerTimeout</c> for the client's EOF: closed.</summary>
    Linger,
}

/// <summary>
/// One connection's clocks (Kestrel's <c>TimeoutControl</c>): at most one deadline, with its
/// <see cref="TimeoutReason"/>, and the two data rates. Everything reads the heartbeat's time, which is the
/// loop's clock, so setting a deadline costs a few field writes and tests move time by hand.
/// <list type="bullet">
/// <item>A deadline is never early: it is set from the heartbeat's last time, which may lag the clock by up
///   to one interval, plus that interval.</item>
/// <item>The body rate counts time only while reads are timed and not paused: time the server spends not
///   reading (back-pressure, a handler that has not asked for the body yet) is not the client's fault.</item>
/// <item>The response rate is measured over windows while output waits in the transport's buffer.</item>
/// </list>
/// Loop thread only.
/// </summary>
internal sealed class TimeoutControl(HttpHeartbeat heartbeat, HttpServerOptions options)
{
    private long _deadline = long.MaxValue;
    private long _lastTick = heartbeat.Now;

    private bool _readTiming;
    private bool _readTimingPaused;
    private long _readElapsed;          // ticks during which reads were timed
    private long _readBytes;

    private long _writeWindowStart = -1; // while output is backed up: when the current window began
    private long _writeWindowSent;

    /// <summary>What the armed deadline is for; <see cref="TimeoutReason.None"/> when none is.</summary>
    public TimeoutReason Reason { get; private set; }

    public void SetTimeout(TimeSpan timeout, TimeoutReason reason)
    {
        _deadline = heartbeat.Now + timeout.Ticks + HttpHeartbeat.Interval.Ticks;
        Reason = reason;
    }

    public void CancelTimeout()
    {
        _deadline = long.MaxValue;
        Reason = TimeoutReason.None;
    }

    /// <summary>A body starts: its bytes are counted, and time counts while not paused.</summary>
    public void StartTimingReads()
    {
        _readTiming = true;
        _readElapsed = 0;
        _readBytes = 0;
        _lastTick = heartbeat.Now; // time counts from here, not from the last beat before it
    }

    public void StopTimingReads() => _readTiming = false;

    /// <summary>The server is not reading (its buffer is full): the time does not count against the client.</summary>
    public void PauseTimingReads() => _readTimingPaused = true;

    public void ResumeTimingReads()
    {
        if (_readTimingPaused && _readTiming)
        {
            _lastTick = Math.Max(_lastTick, heartbeat.Now);
        }
        _readTimingPaused = false;
    }

    public void BytesRead(int count) => _readBytes += count;

    /// <summary>
    /// A heartbeat at <paramref name="now"/>: returns the first limit that has run out, or <see cref="TimeoutReason.None"/>.
    /// <paramref name="bytesSent"/> is what has left the transport so far, <paramref name="bytesBuffered"/> what waits in it.
    /// </summary>
    public TimeoutReason Tick(long now, long bytesSent, int bytesBuffered)
    {
        long elapsed = now - _lastTick;
        _lastTick = now;
        if (IsResponseTooSlow(now, bytesSent, bytesBuffered))
        {
            return TimeoutReason.WriteDataRate;
        }
        if (now > _deadline)
        {
            return Reason;
        }
        if (_readTiming && !_readTimingPaused && options.MinRequestBodyDataRate > 0)
        {
            _readElapsed += elapsed;
            double seconds = (double)_readElapsed / TimeSpan.TicksPerSecond;
            if (_readElapsed > options.MinRequestBodyDataRateGracePeriod.Ticks && _readBytes < seconds * options.MinRequestBodyDataRate)
            {
                return TimeoutReason.ReadDataRate;
            }
        }
        return TimeoutReason.None;
    }

    /// <summary>
    /// Slow read: while output waits in the transport's buffer, every grace-period window must see at least
    /// <see cref="HttpServerOptions.MinResponseDataRate"/> bytes per second leave it (a client that stops reading
    /// cannot pin the buffer, or a handler awaiting drain, forever).
    /// </summary>
    private bool IsResponseTooSlow(long now, long sent, int buffered)
    {
        if (buffered == 0 || options.MinResponseDataRate <= 0)
        {
            _writeWindowStart = -1;
            return false;
        }
        if (_writeWindowStart < 0)
        {
            _writeWindowStart = now;
            _writeWindowSent = sent;
            return false;
        }
        long window = now - _writeWindowStart;
        if (window < options.MinResponseDataRateGracePeriod.Ticks)
        {
            return false;
        }
        if (sent - _writeWindowSent < (double)window / TimeSpan.TicksPerSecond * options.MinResponseDataRate)
        {
            return true;
        }
        _writeWindowStart = now;
        _writeWindowSent = sent;
        return false;
    }
}
