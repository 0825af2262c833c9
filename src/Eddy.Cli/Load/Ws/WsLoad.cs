using System.Diagnostics;
using Eddy.Loop;
using Eddy.WebSockets;

namespace Eddy.Cli.Load.Ws;

/// <summary>What <c>eddy load ws</c> runs, already validated by <see cref="WsLoadCommand"/>.</summary>
/// <param name="Duration">How long the connections echo (or, idle, stay open).</param>
/// <param name="MessageLimit">Null: no limit but the duration. Else the run ends once this many echoes were started (and answered).</param>
/// <param name="Pipeline">Messages each connection keeps in flight.</param>
/// <param name="IsIdle">Only connect and hold the connections open for the duration: no messages (to measure memory per connection).</param>
internal sealed record WsLoadSettings(
    Uri Target,
    int Connections,
    int Loops,
    int MessageSize,
    bool IsText,
    int Pipeline,
    TimeSpan Duration,
    long? MessageLimit,
    bool IsIdle,
    TimeSpan Timeout,
    WebSocketClientOptions Client);

/// <summary>The figures of a finished (or interrupted) run, merged over all loops.</summary>
internal sealed class WsLoadResult
{
    public required double Seconds { get; init; }

    public required long Messages { get; init; }

    public required int Connected { get; init; }

    public required long[] ErrorsByKind { get; init; }

    public required SortedDictionary<string, long>[] ErrorDetails { get; init; }

    public required HdrHistogram.LongHistogram LatencyUs { get; init; }

    public required bool IsInterrupted { get; init; }
}

/// <summary>
/// The engine of <c>eddy load ws</c>, on the structure of <see cref="TcpLoad"/>: a <see cref="LoopGroup"/>, the
/// connections dealt among its loops, one <see cref="WsLoadWorker"/> per loop with its own counters and histogram,
/// merged once the loops stopped. Two phases, each run on every loop and awaited: every connection makes its
/// handshake, then (the clock starts) they echo until the deadline or the message limit.
/// Lifetime: construct, <see cref="Run"/> once, <see cref="Dispose"/>; <see cref="Interrupt"/> from any thread.
/// </summary>
internal sealed class WsLoad : IDisposable
{
    private readonly LoopGroup _loops;
    private readonly WsLoadWorker[] _workers;
    private long _messagesLeft;                 // with a limit: echoes not yet started, taken by every loop
    private readonly CancellationTokenSource _stop = new();
    private volatile bool _isInterrupted;

    public WsLoad(WsLoadSettings settings, Action<int>? onConnected = null)
    {
        Settings = settings;
        OnConnected = onConnected;
        _messagesLeft = settings.MessageLimit ?? long.MaxValue;
        Payload = new byte[settings.MessageSize];
        if (settings.IsText)
        {
            for (int i = 0; i < Payload.Length; i++)
            {
                Payload[i] = (byte)('a' + Random.Shared.Next(26)); // valid UTF-8: the server checks text messages
            }
        }
        else
        {
            Random.Shared.NextBytes(Payload);
        }
        long highestUs = 3 * (long)settings.Timeout.TotalMicroseconds + 1_000_000;
        _loops = new LoopGroup(settings.Loops, i => new EventLoopOptions { Name = $"eddy-load-ws-{i}" });
        _workers = new WsLoadWorker[settings.Loops];
        for (int i = 0; i < _workers.Length; i++)
        {
            int connections = settings.Connections / settings.Loops + (i < settings.Connections % settings.Loops ? 1 : 0);
            _workers[i] = new WsLoadWorker(this, _loops.Loops[i], connections, highestUs);
        }
    }

    public WsLoadSettings Settings { get; }

    /// <summary>What every connection sends (and must get back), the same for all. Read-only once built.</summary>
    public byte[] Payload { get; }

    /// <summary>Told how many connections are open once every handshake ended (the bench script waits for it in idle mode).</summary>
    public Action<int>? OnConnected { get; }

    /// <summary>The run's time zero: set once every connection is open, before any message.</summary>
    public long StartTimestamp { get; private set; }

    /// <summary>Echoes that complete after this count for nothing (set with <see cref="StartTimestamp"/>).</summary>
    public long DeadlineTimestamp { get; private set; } = long.MaxValue;

    public bool IsInterrupted => _isInterrupted;

    /// <summary>Whether a connection may start one more echo: before the deadline, not interrupted, within the limit. Any loop thread.</summary>
    public bool TryTakeMessage()
    {
        if (_isInterrupted || Stopwatch.GetTimestamp() >= DeadlineTimestamp)
        {
            return false;
        }
        return Settings.MessageLimit is null || Interlocked.Decrement(ref _messagesLeft) >= 0;
    }

    public WsLoadResult Run()
    {
        _loops.Start();
        try
        {
            RunOnEveryLoop(worker => worker.ConnectAllAsync());
            OnConnected?.Invoke(_workers.Sum(w => w.Connected));
            if (!_isInterrupted)
            {
                StartTimestamp = Stopwatch.GetTimestamp();
                DeadlineTimestamp = StartTimestamp + (long)(Settings.Duration.TotalSeconds * Stopwatch.Frequency);
                RunOnEveryLoop(worker => worker.RunAsync());
            }
        }
        finally
        {
            _loops.Stop(); // joins the loop threads: their figures are safe to read from here on
        }
        return Merge();
    }

    /// <summary>Stops the run early (Ctrl-C): echoes in flight are abandoned without counting as failures.</summary>
    public void Interrupt()
    {
        _isInterrupted = true;
        _stop.Cancel();
    }

    /// <summary>Cancelled by <see cref="Interrupt"/> (any thread): ends an idle run's wait.</summary>
    public CancellationToken StopToken => _stop.Token;

    private void RunOnEveryLoop(Func<WsLoadWorker, Task> work) => LoadLoops.RunOnEvery(_workers, w => w.Loop, work, Interrupt);

    private WsLoadResult Merge()
    {
        var latency = (HdrHistogram.LongHistogram)_workers[0].Latency.Copy();
        for (int i = 1; i < _workers.Length; i++)
        {
            latency.Add(_workers[i].Latency);
        }
        var (errors, details) = LoadErrorTally.Merge(_workers.Select(w => w.Errors));
        // Echoes completed after the deadline are not counted: neither is their time.
        long end = Math.Min(_workers.Max(w => w.EndTimestamp), DeadlineTimestamp);
        return new WsLoadResult
        {
            Seconds = StartTimestamp == 0 || end <= StartTimestamp ? 0 : Stopwatch.GetElapsedTime(StartTimestamp, end).TotalSeconds,
            Messages = _workers.Sum(w => w.Messages),
            Connected = _workers.Sum(w => w.Connected),
            ErrorsByKind = errors,
            ErrorDetails = details,
            LatencyUs = latency,
            IsInterrupted = _isInterrupted,
        };
    }

    public void Dispose()
    {
        _loops.Dispose();
        _stop.Dispose();
    }
}
