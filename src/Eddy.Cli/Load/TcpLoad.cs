using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Eddy.Loop;
using Eddy.Tls;
using HdrHistogram;

namespace Eddy.Cli.Load;

/// <summary>What <c>eddy load tcp</c> runs, already validated by <see cref="TcpLoadCommand"/>.</summary>
/// <param name="Message">The message every client sends, or null for <paramref name="MessageSize"/> random bytes per connection.</param>
/// <param name="Duration">Null: one-shot clients for <paramref name="Rounds"/> rounds. Set: closed-loop connections for this long.</param>
/// <param name="Timeout">The longest a connect, a send or the wait for a full reply may take.</param>
/// <param name="Tls">With <c>--tls</c>: how to speak TLS over each connection (the echo then runs over TLS); null for plain TCP.</param>
internal sealed record TcpLoadSettings(
    IPEndPoint Target,
    int Connections,
    int Loops,
    byte[]? Message,
    int MessageSize,
    int Rounds,
    TimeSpan? Duration,
    TimeSpan Timeout,
    TlsClientOptions? Tls = null)
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

    /// <summary>With <c>--tls</c>: microseconds each handshake took (from the TCP connect to the connection being usable); else null.</summary>
    public required LongHistogram? TlsHandshakeUs { get; init; }

    /// <summary>With <c>--tls</c>: the version and cipher suite agreed on the first connection, or null.</summary>
    public required (SslProtocols Version, TlsCipherSuite CipherSuite)? TlsSession { get; init; }

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
/// The load engine: a <see cref="LoopGroup"/> of <see cref="TcpLoadSettings.Loops"/> loops (as <c>eddy load
/// http</c>'s <see cref="Http.HttpLoad"/>), the connections dealt round-robin among them, one
/// <see cref="TcpLoadWorker"/> per loop. Each loop keeps its own counters and histogram, so the hot path takes
/// no lock; they are merged once the loops have stopped. The calling thread runs the rounds: it starts a round
/// on every loop and waits until every loop has finished it before the next (one-shot mode), or starts the
/// closed-loop run once, after the clock starts.
///
/// Lifetime: construct, <see cref="Run"/> once, <see cref="Dispose"/>. <see cref="Interrupt"/> may be
/// called from any thread (a signal handler) at any point.
/// </summary>
internal sealed class TcpLoad : IDisposable
{
    private readonly TcpLoadSettings _settings;
    private readonly LoopGroup _loops;
    private readonly TcpLoadWorker[] _workers;
    private volatile bool _isInterrupted;

    public TcpLoad(TcpLoadSettings settings)
    {
        _settings = settings;
        // Latencies are clamped to this: a failed operation never outlives three timeouts plus the watchdog period.
        long highestUs = 3 * (long)settings.Timeout.TotalMicroseconds + 1_000_000;
        _loops = new LoopGroup(settings.Loops, i => new EventLoopOptions { Name = $"eddy-load-{i}" });
        _workers = new TcpLoadWorker[settings.Loops];
        for (int i = 0; i < _workers.Length; i++)
        {
            int connections = settings.Connections / settings.Loops + (i < settings.Connections % settings.Loops ? 1 : 0);
            _workers[i] = new TcpLoadWorker(this, _loops.Loops[i], connections, highestUs);
        }
    }

    public TcpLoadSettings Settings => _settings;

    /// <summary>When the first round (or the closed-loop run) started: the run's time zero. Set once, before any client starts.</summary>
    public long StartTimestamp { get; private set; }

    public bool IsInterrupted => _isInterrupted;

    public TcpLoadResult Run()
    {
        _loops.Start();
        try
        {
            if (_settings.IsClosedLoop)
            {
                if (!_isInterrupted)
                {
                    StartTimestamp = Stopwatch.GetTimestamp();
                    RunOnEveryLoop(worker => worker.RunClosedLoopAsync());
                }
            }
            else
            {
                for (int round = 0; round < _settings.Rounds && !_isInterrupted; round++)
                {
                    if (round == 0)
                    {
                        StartTimestamp = Stopwatch.GetTimestamp();
                    }
                    RunOnEveryLoop(worker => worker.RunRoundAsync());
                }
            }
        }
        finally
        {
            _loops.Stop(); // joins the loop threads: their figures are safe to read from here on
        }
        return Merge();
    }

    /// <summary>Stops the run early (Ctrl-C): clients in flight are abandoned without counting as failures.</summary>
    public void Interrupt()
    {
        _isInterrupted = true;
        foreach (TcpLoadWorker worker in _workers)
        {
            worker.RequestStop();
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on each worker's loop and waits until every loop has finished it. A task that
    /// fails is a bug (connections count their failures): it stops the other loops at once and is rethrown.
    /// </summary>
    private void RunOnEveryLoop(Func<TcpLoadWorker, Task> work) => LoadLoops.RunOnEvery(_workers, w => w.Loop, work, Interrupt);

    private TcpLoadResult Merge()
    {
        var latency = (LongHistogram)_workers[0].Latency.Copy();
        LongHistogram? handshake = _settings.Tls is null ? null : (LongHistogram)_workers[0].HandshakeLatency.Copy();
        (SslProtocols, TlsCipherSuite)? session = null;
        var (errors, details) = LoadErrorTally.Merge(_workers.Select(w => w.Errors));
        long messages = 0;
        long end = 0;
        for (int i = 0; i < _workers.Length; i++)
        {
            TcpLoadWorker worker = _workers[i];
            if (i > 0)
            {
                latency.Add(worker.Latency);
                handshake?.Add(worker.HandshakeLatency);
            }
            session ??= worker.TlsSession;
            messages += worker.Messages;
            end = Math.Max(end, worker.EndTimestamp);
        }
        // Interrupted before the first round: nothing ran.
        double seconds = StartTimestamp == 0 || end == 0 ? 0 : Stopwatch.GetElapsedTime(StartTimestamp, end).TotalSeconds;
        return new TcpLoadResult
        {
            Seconds = seconds,
            Messages = messages,
            ErrorsByKind = errors,
            ErrorDetails = details,
            LatencyUs = latency,
            TlsHandshakeUs = handshake,
            TlsSession = session,
            IsInterrupted = _isInterrupted,
        };
    }

    public void Dispose()
    {
        _loops.Dispose();
        foreach (TcpLoadWorker worker in _workers)
        {
            worker.Dispose();
        }
    }
}
