using System.Diagnostics;
using System.Net;
using HdrHistogram;

namespace Eddy.Cli.Load;

/// <summary>What <c>eddy load tcp</c> runs, already validated by <see cref="TcpLoadCommand"/>.</summary>
/// <param name="Message">The message every client sends, or null for <paramref name="MessageSize"/> random bytes per connection.</param>
/// <param name="Duration">Null: one-shot clients for <paramref name="Rounds"/> rounds. Set: closed-loop connections for this long.</param>
/// <param name="Timeout">The longest a connect, a send or the wait for a full reply may take.</param>
internal sealed record TcpLoadSettings(
    IPEndPoint Target,
    int Connections,
    int Loops,
    byte[]? Message,
    int MessageSize,
    int Rounds,
    TimeSpan? Duration,
    TimeSpan Timeout)
{
    public bool IsClosedLoop => Duration is not null;
}

/// <summary>The ways a client can fail, one counter each; each failure also records its cause (an errno name, …).</summary>
internal enum LoadErrorKind
{
    /// <summary>socket(2) or connect(2) failed (ECONNREFUSED, EMFILE, …), or the connect took longer than the timeout ("timeout").</summary>
    Connect,

    /// <summary>send(2) failed (EPIPE, ECONNRESET).</summary>
    Write,

    /// <summary>recv(2) failed (ECONNRESET), or the server closed before the full reply ("closed before full reply").</summary>
    Read,

    /// <summary>The reply differs from the message, or is longer.</summary>
    Mismatch,

    /// <summary>A send, or the wait for the full reply, took longer than the timeout (cause: "write" or "read").</summary>
    Timeout,
}

/// <summary>The figures of a finished (or interrupted) run, merged over all loops.</summary>
internal sealed class TcpLoadResult
{
    public required double Seconds { get; init; }

    /// <summary>Closed loop: completed echoes. One-shot: clients that got their full reply.</summary>
    public required long Messages { get; init; }

    public required long[] ErrorsByKind { get; init; }

    /// <summary>Per kind, the errno name (or another cause) and how often it happened.</summary>
    public required SortedDictionary<string, long>[] ErrorDetails { get; init; }

    public required LongHistogram LatencyUs { get; init; }

    public required bool IsInterrupted { get; init; }

    public long Errors
    {
        get
        {
            long total = 0;
            foreach (long count in ErrorsByKind)
            {
                total += count;
            }
            return total;
        }
    }
}

/// <summary>
/// The load engine: <see cref="TcpLoadSettings.Loops"/> event loops, each on its own thread, with the
/// connections dealt round-robin among them. Each loop keeps its own counters and histogram, so the hot
/// path takes no lock; they are merged once every thread has finished. The threads meet at a barrier
/// before each round (one-shot mode) or once before the clock starts (closed-loop mode).
///
/// Lifetime: construct, <see cref="Run"/> once, <see cref="Dispose"/>. <see cref="Interrupt"/> may be
/// called from any thread (a signal handler) at any point.
/// </summary>
internal sealed class TcpLoad : IDisposable
{
    private readonly TcpLoadSettings _settings;
    private readonly TcpLoadWorker[] _workers;
    private readonly Barrier _barrier;
    private readonly CancellationTokenSource _interrupt = new();
    private readonly object _gate = new(); // orders Interrupt against Dispose, which closes the loops
    private volatile bool _isInterrupted;
    private bool _isDisposed;

    public TcpLoad(TcpLoadSettings settings)
    {
        _settings = settings;
        // Latencies are clamped to this: a failed operation never outlives three timeouts plus the watchdog period.
        long highestUs = 3 * (long)settings.Timeout.TotalMicroseconds + 1_000_000;
        _workers = new TcpLoadWorker[settings.Loops];
        try
        {
            for (int i = 0; i < _workers.Length; i++)
            {
                int connections = settings.Connections / settings.Loops + (i < settings.Connections % settings.Loops ? 1 : 0);
                _workers[i] = new TcpLoadWorker(this, i, connections, highestUs);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        _barrier = new Barrier(settings.Loops, barrier =>
        {
            if (barrier.CurrentPhaseNumber == 0)
            {
                StartTimestamp = Stopwatch.GetTimestamp();
            }
        });
    }

    public TcpLoadSettings Settings => _settings;

    /// <summary>When every loop was ready to start: the run's time zero. Set once, before any client starts.</summary>
    public long StartTimestamp { get; private set; }

    public bool IsInterrupted => _isInterrupted;

    public TcpLoadResult Run()
    {
        var threads = new Thread[_workers.Length];
        for (int i = 0; i < threads.Length; i++)
        {
            threads[i] = new Thread(_workers[i].ThreadMain) { Name = $"eddy-load-{i}", IsBackground = true };
            threads[i].Start();
        }
        foreach (Thread thread in threads)
        {
            thread.Join();
        }
        foreach (TcpLoadWorker worker in _workers)
        {
            if (worker.Crash is { } crash)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(crash);
            }
        }
        return Merge();
    }

    /// <summary>Stops the run early (Ctrl-C): clients in flight are abandoned without counting as failures.</summary>
    public void Interrupt()
    {
        lock (_gate)
        {
            if (_isDisposed)
            {
                return;
            }
            _isInterrupted = true;
            _interrupt.Cancel(); // releases threads waiting at the barrier
            foreach (TcpLoadWorker? worker in _workers)
            {
                worker?.RequestStop();
            }
        }
    }

    /// <summary>Waits until every loop is ready for the next round; false when the run was interrupted meanwhile.</summary>
    internal bool WaitForAllLoops()
    {
        if (_isInterrupted)
        {
            return false;
        }
        try
        {
            _barrier.SignalAndWait(_interrupt.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        return !_isInterrupted;
    }

    /// <summary>A loop thread failed with a bug: stop the others so the process can report it.</summary>
    internal void Abort() => Interrupt();

    private TcpLoadResult Merge()
    {
        var latency = (LongHistogram)_workers[0].Latency.Copy();
        var (errors, details) = LoadErrorTally.Merge(_workers.Select(w => w.Errors));
        long messages = 0;
        long end = 0;
        for (int i = 0; i < _workers.Length; i++)
        {
            TcpLoadWorker worker = _workers[i];
            if (i > 0)
            {
                latency.Add(worker.Latency);
            }
            messages += worker.Messages;
            end = Math.Max(end, worker.EndTimestamp);
        }
        // Interrupted before the first barrier: nothing ran.
        double seconds = StartTimestamp == 0 ? 0 : Stopwatch.GetElapsedTime(StartTimestamp, end).TotalSeconds;
        return new TcpLoadResult
        {
            Seconds = seconds,
            Messages = messages,
            ErrorsByKind = errors,
            ErrorDetails = details,
            LatencyUs = latency,
            IsInterrupted = _isInterrupted,
        };
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_isDisposed)
            {
                return;
            }
            _isDisposed = true;
        }
        foreach (TcpLoadWorker? worker in _workers)
        {
            worker?.Dispose();
        }
        _barrier?.Dispose();
        _interrupt.Dispose();
    }
}
