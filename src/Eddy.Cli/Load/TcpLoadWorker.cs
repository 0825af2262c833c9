using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Eddy.Loop;
using Eddy.Sockets;
using Eddy.Streams;
using Eddy.Streams.Internal;
using Eddy.Tls;
using HdrHistogram;

namespace Eddy.Cli.Load;

/// <summary>
/// One loop's share of the load generator's connections (the loop is one of the engine's
/// <see cref="LoopGroup"/>). Every connection is an <c>async</c> method on the loop's socket awaitables, so
/// the loop thread runs them all and nothing hops to the thread pool. Counters and the latency histogram
/// belong to this loop alone (loop thread only while running; read by the engine after the group has
/// stopped and joined its threads).
///
/// Timeouts and stopping both work by closing the socket: <see cref="NativeSocket.Dispose"/> fails the
/// pending await with <see cref="ObjectDisposedException"/>, and the connection's flags say whether that
/// was a timeout (a failure) or the end of the run (not one). That keeps cancellation tokens off the hot
/// path: a cancellable token costs a registration on every await that waits (and an allocation, in
/// <c>SocketOperation.Wait</c> today), where a closed socket costs nothing until it is needed.
/// <para>
/// With <c>--tls</c> a connection is a <see cref="TlsTransport"/> read and written through the streams layer
/// (<see cref="AsyncStreamReader"/>/<see cref="AsyncStreamWriter"/>) instead of raw socket awaitables; the watchdog
/// and the stop then abort the transport (or cancel the pending connect) where they would close the socket.
/// </para>
/// </summary>
internal sealed class TcpLoadWorker : IDisposable
{
    private static readonly Action<object?> s_onWatchdog = static s => ((TcpLoadWorker)s!).OnWatchdog();
    private static readonly Action<object?> s_stop = static s => ((TcpLoadWorker)s!).Stop();

    /// <summary>After a failure a closed-loop connection waits this long before reconnecting, so a dead server is not hammered in a spin.</summary>
    private static readonly TimeSpan ReconnectPause = TimeSpan.FromMilliseconds(100);

    private static readonly double MicrosecondsPerTick = 1_000_000.0 / Stopwatch.Frequency;

    private readonly TcpLoad _load;
    private readonly TcpLoadSettings _settings;
    private readonly EventLoop _loop;
    private readonly Connection[] _connections;
    private readonly IPEndPoint _target;
    private readonly bool _isOneShot;
    private readonly bool _isRandomPayload;
    private readonly long _timeoutTicks;
    private readonly TimeSpan _watchdogPeriod;
    private readonly long _highestUs;
    private readonly Random _random = new(); // loop thread only
    private readonly CancellationTokenSource _stopping = new(); // cancelled on the loop when it stops: ends reconnect pauses
    private bool _isStopping; // loop thread only
    private TimerHandle _watchdog;

    public TcpLoadWorker(TcpLoad load, EventLoop loop, int connections, long highestUs)
    {
        _load = load;
        _loop = loop;
        _settings = load.Settings;
        _target = _settings.Target;
        _isOneShot = !_settings.IsClosedLoop;
        _isRandomPayload = _settings.Message is null;
        _timeoutTicks = (long)(_settings.Timeout.TotalSeconds * Stopwatch.Frequency);
        // The watchdog looks at every connection each period: a timeout fires up to one period late.
        _watchdogPeriod = TimeSpan.FromTicks(Math.Clamp(_settings.Timeout.Ticks / 10, TimeSpan.TicksPerMillisecond, 100 * TimeSpan.TicksPerMillisecond));
        _highestUs = highestUs;
        Latency = new LongHistogram(highestUs, numberOfSignificantValueDigits: 3);
        HandshakeLatency = new LongHistogram(highestUs, numberOfSignificantValueDigits: 3);
        _connections = new Connection[connections];
        for (int i = 0; i < connections; i++)
        {
            _connections[i] = new Connection(_settings.Message ?? new byte[_settings.MessageSize]);
        }
    }

    /// <summary>The loop this worker's connections run on.</summary>
    public EventLoop Loop => _loop;

    /// <summary>Microseconds: connect → full reply (one-shot), or send → full reply (closed loop).</summary>
    public LongHistogram Latency { get; }

    /// <summary>With <c>--tls</c>: microseconds each handshake took, from the TCP connect to the connection being usable.</summary>
    public LongHistogram HandshakeLatency { get; }

    /// <summary>With <c>--tls</c>: the version and cipher suite of the first connection (null until one is made).</summary>
    public (SslProtocols Version, TlsCipherSuite CipherSuite)? TlsSession { get; private set; }

    public long Messages { get; private set; }

    /// <summary>Failures by kind and cause (an errno name, "closed before full reply", …). Touched only when something fails.</summary>
    public LoadErrorTally Errors { get; } = new();

    /// <summary>When this loop stopped: its last round ended, the duration ran out, or the run was interrupted.</summary>
    public long EndTimestamp { get; private set; }

    /// <summary>From any thread: stop this loop's connections at its next tick.</summary>
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

    /// <summary>On the loop: one round of one-shot clients, each connecting once. Completes when every client has ended.</summary>
    public async Task RunRoundAsync()
    {
        StartWatchdog();
        var clients = new Task[_connections.Length];
        for (int i = 0; i < clients.Length; i++)
        {
            clients[i] = RunConnectionAsync(_connections[i]);
        }
        await Task.WhenAll(clients);
        if (!_isStopping)
        {
            EndTimestamp = Stopwatch.GetTimestamp(); // else Stop has set it
        }
    }

    /// <summary>On the loop: closed-loop connections until the duration runs out (or the run is interrupted).</summary>
    public Task RunClosedLoopAsync()
    {
        long deadline = _load.StartTimestamp + (long)(_settings.Duration!.Value.TotalSeconds * Stopwatch.Frequency);
        _loop.CallLater(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline), s_stop, this);
        StartWatchdog();
        var connections = new Task[_connections.Length];
        for (int i = 0; i < connections.Length; i++)
        {
            connections[i] = RunPersistentAsync(_connections[i]);
        }
        return Task.WhenAll(connections);
    }

    /// <summary>Closed loop: keeps one connection echoing until the loop stops, reconnecting after a failure.</summary>
    private async Task RunPersistentAsync(Connection connection)
    {
        while (!_isStopping)
        {
            await RunConnectionAsync(connection);
            if (_isStopping)
            {
                break;
            }
            try
            {
                await _loop.Delay(ReconnectPause, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>
    /// One connection: connect, then send the message and read the whole echo back — once (one-shot),
    /// or until the loop stops (closed loop). Returns when it ends; failures are counted, not thrown.
    /// The message loop allocates nothing: the buffers belong to the connection, awaits complete on
    /// reused sources, and this method's state machine is allocated once per connection.
    /// </summary>
    private async Task RunConnectionAsync(Connection c)
    {
        if (_isStopping)
        {
            return;
        }
        if (_settings.Tls is not null)
        {
            await RunTlsConnectionAsync(c);
            return;
        }
        long connectStart = Stopwatch.GetTimestamp();
        NativeSocket? socket = null;
        c.IsTimedOut = false;
        c.Phase = LoadErrorKind.Connect;
        c.Deadline = connectStart + _timeoutTicks;
        try
        {
            socket = NativeSocket.Create(_target.AddressFamily);
            c.Socket = socket;
            socket.TrySetNoDelay();
            await _loop.SockConnectAsync(socket, _target);
            if (_isRandomPayload)
            {
                _random.NextBytes(c.Message);
            }

            ReadOnlyMemory<byte> message = c.Message;
            Memory<byte> reply = c.Reply;
            int size = message.Length;
            long started = connectStart;
            do
            {
                long sendStart = Stopwatch.GetTimestamp();
                if (!_isOneShot)
                {
                    started = sendStart;
                }
                c.Phase = LoadErrorKind.Write;
                c.Deadline = sendStart + _timeoutTicks;
                await _loop.SockSendAllAsync(socket, message);

                c.Phase = LoadErrorKind.Read;
                c.Deadline = Stopwatch.GetTimestamp() + _timeoutTicks;
                int received = 0;
                do
                {
                    // The buffer has one byte more than the message: a short read tells the loop the socket
                    // is drained, so the next receive waits for readiness instead of trying a recv that
                    // would say EAGAIN (SocketLoopState.ReadMaybeReady). A server sending too much shows up
                    // as received > size.
                    int n = await _loop.SockRecvAsync(socket, reply[received..]);
                    if (n == 0)
                    {
                        CountFailure(LoadErrorKind.Read, "closed before full reply");
                        return;
                    }
                    received += n;
                }
                while (received < size);
                c.Deadline = 0;
                if (!RecordEcho(reply.Span, message.Span, received, started))
                {
                    return;
                }
            }
            while (!_isOneShot && !_isStopping);
        }
        catch (Exception e) when (e is PosixException or ObjectDisposedException)
        {
            CountFailure(c, c.Phase, e is PosixException p ? p.ErrnoName : e.GetType().Name);
        }
        finally
        {
            c.Deadline = 0;
            c.Socket = null;
            socket?.Dispose();
        }
    }

    /// <summary>
    /// <see cref="RunConnectionAsync"/> over TLS: connect and handshake (within the timeout), then the same echoes
    /// through the streams layer. Timeouts abort the transport, which ends a pending read or drain.
    /// </summary>
    private async Task RunTlsConnectionAsync(Connection c)
    {
        long connectStart = Stopwatch.GetTimestamp();
        long tcpConnected = 0;
        c.IsTimedOut = false;
        c.Phase = LoadErrorKind.Connect;
        c.Deadline = connectStart + _timeoutTicks;
        using var connecting = new CancellationTokenSource();
        c.PendingConnect = connecting;
        TlsTransport? transport = null;
        try
        {
            (transport, StreamReaderProtocol protocol) = await _loop.ConnectAsync(
                () =>
                {
                    tcpConnected = Stopwatch.GetTimestamp(); // the factory runs once the TCP connect is done
                    return new StreamReaderProtocol(_loop, null);
                },
                _target, _settings.Tls!, connecting.Token);
            c.PendingConnect = null;
            c.Transport = transport;
            HandshakeLatency.RecordValue(Math.Min((long)((Stopwatch.GetTimestamp() - tcpConnected) * MicrosecondsPerTick), _highestUs));
            TlsSession ??= (transport.TlsVersion, transport.CipherSuite);
            if (_isRandomPayload)
            {
                _random.NextBytes(c.Message);
            }
            AsyncStreamReader reader = protocol.Reader;
            AsyncStreamWriter writer = protocol.Writer;
            Memory<byte> reply = c.Reply;
            int size = c.Message.Length;
            long started = connectStart;
            do
            {
                long sendStart = Stopwatch.GetTimestamp();
                if (!_isOneShot)
                {
                    started = sendStart;
                }
                c.Phase = LoadErrorKind.Write;
                c.Deadline = sendStart + _timeoutTicks;
                writer.Write(c.Message);
                await writer.DrainAsync();

                c.Phase = LoadErrorKind.Read;
                c.Deadline = Stopwatch.GetTimestamp() + _timeoutTicks;
                int received = 0;
                do
                {
                    int n = await reader.ReadAsync(reply[received..]);
                    if (n == 0)
                    {
                        CountFailure(c, LoadErrorKind.Read, "closed before full reply"); // or the watchdog aborted it
                        return;
                    }
                    received += n;
                }
                while (received < size);
                c.Deadline = 0;
                if (!RecordEcho(reply.Span, c.Message, received, started))
                {
                    return;
                }
            }
            while (!_isOneShot && !_isStopping);
        }
        catch (Exception e) when (e is PosixException or IOException or AuthenticationException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            string cause = c.Phase == LoadErrorKind.Connect ? Http.HttpLoadWorker.ConnectErrorCause(e) : e is PosixException p ? p.ErrnoName : e.GetType().Name;
            CountFailure(c, c.Phase, cause);
        }
        finally
        {
            c.Deadline = 0;
            c.PendingConnect = null;
            c.Transport = null;
            transport?.Abort();
        }
    }

    /// <summary>The full reply is in (its last byte just now): counts a mismatch and returns false, or records the echo.</summary>
    private bool RecordEcho(ReadOnlySpan<byte> reply, ReadOnlySpan<byte> message, int received, long started)
    {
        long end = Stopwatch.GetTimestamp();
        if (received != message.Length)
        {
            CountFailure(LoadErrorKind.Mismatch, "more bytes than sent");
            return false;
        }
        if (!reply[..message.Length].SequenceEqual(message))
        {
            CountFailure(LoadErrorKind.Mismatch, "different bytes");
            return false;
        }
        Latency.RecordValue(Math.Min((long)((end - started) * MicrosecondsPerTick), _highestUs));
        Messages++;
        return true;
    }

    /// <summary>
    /// A connection failed: a timeout when the watchdog ended it (a connect that times out is a connect failure like a
    /// refusal; a stalled send or reply is a timeout), else <paramref name="kind"/> with <paramref name="cause"/>. At the
    /// deadline or on a signal, a pending operation is abandoned, not failed: nothing is counted.
    /// </summary>
    private void CountFailure(Connection c, LoadErrorKind kind, string cause)
    {
        if (c.IsTimedOut)
        {
            if (c.Phase == LoadErrorKind.Connect)
            {
                CountFailure(LoadErrorKind.Connect, "timeout");
            }
            else
            {
                CountFailure(LoadErrorKind.Timeout, c.Phase == LoadErrorKind.Write ? "write" : "read");
            }
        }
        else if (!_isStopping)
        {
            CountFailure(kind, cause);
        }
    }

    private void CountFailure(LoadErrorKind kind, string cause) => Errors.Count(kind, cause);

    private void StartWatchdog()
    {
        if (!_watchdog.IsPending && !_isStopping)
        {
            _watchdog = _loop.CallLater(_watchdogPeriod, s_onWatchdog, this);
        }
    }

    /// <summary>
    /// Times out overdue operations by closing their sockets. One scan per period costs O(connections) per
    /// period instead of a timer per operation (a heap insert and a cancel for every message).
    /// </summary>
    private void OnWatchdog()
    {
        if (_isStopping)
        {
            return;
        }
        long now = Stopwatch.GetTimestamp();
        foreach (Connection c in _connections)
        {
            if (c.Deadline != 0 && now >= c.Deadline && c.Socket is { } socket)
            {
                c.IsTimedOut = true;
                socket.Dispose(); // the pending await fails now, inline; RunConnectionAsync counts the timeout
            }
            else if (c.Deadline != 0 && now >= c.Deadline && (c.PendingConnect is not null || c.Transport is not null))
            {
                c.IsTimedOut = true;
                c.PendingConnect?.Cancel(); // TLS: the connect (or handshake) fails, or the transport's pending read or drain ends
                c.Transport?.Abort();
            }
        }
        _watchdog = _loop.CallLater(_watchdogPeriod, s_onWatchdog, this);
    }

    /// <summary>On the loop: the duration is over or the run was interrupted. Abandons every pending operation.</summary>
    private void Stop()
    {
        if (_isStopping)
        {
            return;
        }
        _isStopping = true;
        EndTimestamp = Stopwatch.GetTimestamp();
        _watchdog.Cancel();
        _stopping.Cancel(); // on the loop thread, so pending delays fail inline
        foreach (Connection c in _connections)
        {
            c.Socket?.Dispose();
            c.PendingConnect?.Cancel();
            c.Transport?.Abort();
        }
    }

    /// <summary>After the loops have stopped (the group owns and closes the loop).</summary>
    public void Dispose() => _stopping.Dispose();

    /// <summary>A connection slot: its buffers outlive the sockets, so reconnecting and new rounds reuse them.</summary>
    private sealed class Connection(byte[] message)
    {
        /// <summary>Shared by all connections for --message; this connection's own for --size (refilled per connection).</summary>
        public readonly byte[] Message = message;

        public readonly byte[] Reply = new byte[message.Length + 1];

        /// <summary>The open socket, or null between connections. Loop thread only.</summary>
        public NativeSocket? Socket;

        /// <summary>With <c>--tls</c>: the open connection, or null. Loop thread only.</summary>
        public TlsTransport? Transport;

        /// <summary>With <c>--tls</c>: cancels the connect and handshake in progress, or null. Loop thread only.</summary>
        public CancellationTokenSource? PendingConnect;

        /// <summary>Stopwatch timestamp at which the pending operation times out; 0 when none is pending.</summary>
        public long Deadline;

        /// <summary>What the connection is doing, hence the kind of a failure: Connect, Write or Read.</summary>
        public LoadErrorKind Phase;

        public bool IsTimedOut;
    }
}
