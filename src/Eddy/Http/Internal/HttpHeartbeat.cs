using Eddy.Loop;

namespace Eddy.Http.Internal;

/// <summary>
/// Once a second, tells every HTTP connection of one loop the time, so each can enforce its timeouts
/// (Kestrel's heartbeat): a request then costs a clock read, not a timer to schedule and cancel.
/// Runs only while the loop has connections. Loop thread only.
/// </summary>
internal sealed class HttpHeartbeat(EventLoop loop)
{
    private static readonly Action<object?> s_tick = static s => ((HttpHeartbeat)s!).Tick();

    private readonly HashSet<HttpConnection> _connections = [];
    private readonly List<HttpConnection> _snapshot = [];
    private TimerHandle _timer;

    public void Add(HttpConnection connection)
    {
        _connections.Add(connection);
        if (!_timer.IsPending)
        {
            _timer = loop.CallLater(TimeSpan.FromSeconds(1), s_tick, this);
        }
    }

    public void Remove(HttpConnection connection) => _connections.Remove(connection);

    private void Tick()
    {
        long now = Environment.TickCount64;
        _snapshot.AddRange(_connections); // a timeout closes connections, which removes them from the set
        foreach (HttpConnection connection in _snapshot)
        {
            connection.OnHeartbeat(now);
        }
        _snapshot.Clear();
        if (_connections.Count > 0)
        {
            _timer = loop.CallLater(TimeSpan.FromSeconds(1), s_tick, this);
        }
    }
}
