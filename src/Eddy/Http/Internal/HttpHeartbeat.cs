using Eddy.Loop;

namespace Eddy.Http.Internal;

/// <summary>
/// Once a second, tells every HTTP connection of one loop (and every WebSocket one of them upgraded to) the time, so each can enforce its timeouts
/// (Kestrel's heartbeat): a request then costs no clock read and no timer to schedule and cancel, only a
/// deadline computed from <see cref="Now"/>. The time is the loop's clock (<see cref="EventLoop.Time"/>),
/// so a test loop on a manual clock drives every timeout without waiting. Runs only while the loop has
/// connections. Loop thread only.
/// </summary>
internal sealed class HttpHeartbeat(EventLoop loop)
{
    /// <summary>How often connections are told the time: deadlines are this coarse.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private static readonly Action<object?> s_tick = static s => ((HttpHeartbeat)s!).Tick();

    private readonly HashSet<IHeartbeatClient> _connections = [];
    private readonly List<IHeartbeatClient> _snapshot = [];
    private TimerHandle _timer;

    /// <summary>The loop's time (ticks of <see cref="EventLoop.Time"/>) at the last beat, or when the first connection came.</summary>
    public long Now { get; private set; }

    public void Add(IHeartbeatClient connection)
    {
        _connections.Add(connection);
        if (!_timer.IsPending)
        {
            Now = loop.Time.Ticks; // the beat was asleep: its time is stale
            _timer = loop.CallLater(Interval, s_tick, this);
        }
    }

    public void Remove(IHeartbeatClient connection) => _connections.Remove(connection);

    private void Tick()
    {
        Now = loop.Time.Ticks;
        _snapshot.AddRange(_connections); // a timeout closes connections, which removes them from the set
        foreach (IHeartbeatClient connection in _snapshot)
        {
            connection.OnHeartbeat(Now);
        }
        _snapshot.Clear();
        if (_connections.Count > 0)
        {
            _timer = loop.CallLater(Interval, s_tick, this);
        }
    }
}
