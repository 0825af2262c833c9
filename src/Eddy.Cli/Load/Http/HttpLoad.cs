using System.Diagnostics;
using System.Net.Security;
using System.Security.Authentication;
using Eddy.Loop;
using HdrHistogram;

namespace Eddy.Cli.Load.Http;

/// <summary>The figures of a finished (or interrupted) run, merged over all loops.</summary>
internal sealed class HttpLoadResult
{
    public required double Seconds { get; init; }

    /// <summary>Responses received, whatever their status.</summary>
    public required long Responses { get; init; }

    public required long RequestsSent { get; init; }

    public required long BytesRead { get; init; }

    /// <summary>Times the server closed a connection after a response (<c>Connection: close</c>); each was reopened.</summary>
    public required long ClosedByServer { get; init; }

    /// <summary>Responses by status code (only codes that occurred).</summary>
    public required SortedDictionary<int, long> StatusCounts { get; init; }

    /// <summary>Requests that ended in an error (connect: attempts), by kind.</summary>
    public required long[] ErrorsByKind { get; init; }

    /// <summary>Per kind, the cause (an errno name, "no response in time", …) and how often.</summary>
    public required SortedDictionary<string, long>[] ErrorDetails { get; init; }

    public required LongHistogram LatencyUs { get; init; }

    public required LongHistogram? UncorrectedLatencyUs { get; init; }

    /// <summary>Connections made (over TLS: handshakes that succeeded), the first ones included.</summary>
    public required long ConnectionsOpened { get; init; }

    /// <summary>Microseconds each TCP connect took.</summary>
    public required LongHistogram ConnectUs { get; init; }

    /// <summary>Over TLS: microseconds each handshake took; null over plain HTTP.</summary>
    public required LongHistogram? TlsHandshakeUs { get; init; }

    /// <summary>Over TLS: the version and cipher suite agreed (on the first connection), or null.</summary>
    public required (SslProtocols Version, TlsCipherSuite CipherSuite)? TlsSession { get; init; }

    public required bool IsInterrupted { get; init; }

    /// <summary>What reached a loop's exception handler: a bug in the load generator, reported after the figures.</summary>
    public required List<string> InternalErrors { get; init; }
}

/// <summary>
/// The engine of <c>eddy load http</c>: a <see cref="LoopGroup"/> of <see cref="HttpLoadSettings.Loops"/>
/// loops, the connections dealt round-robin among them, one <see cref="HttpLoadWorker"/> per loop. The
/// calling thread starts the loops, waits for every worker to stop (deadline, requests done, or
/// <see cref="Interrupt"/>), stops the loops and merges their figures.
///
/// Lifetime: construct, <see cref="Run"/> once, <see cref="Dispose"/>. <see cref="Interrupt"/> may be
/// called from any thread (a signal handler) at any point.
/// </summary>
internal sealed class HttpLoad : IDisposable
{
    /// <summary>Latencies are recorded up to an hour (in µs) at 3 significant digits; longer is clamped.</summary>
    private static readonly long HighestUs = (long)TimeSpan.FromHours(1).TotalMicroseconds;

    private readonly LoopGroup _loops;
    private readonly HttpLoadWorker[] _workers;
    private readonly CountdownEvent _stopped;
    private volatile bool _isInterrupted;

    public HttpLoad(HttpLoadSettings settings)
    {
        Settings = settings;
        _loops = new LoopGroup(settings.Loops, i => new EventLoopOptions { Name = $"eddy-load-{i}" });
        _workers = new HttpLoadWorker[settings.Loops];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new HttpLoadWorker(this, _loops.Loops[i], HighestUs);
        }
        // -n: the requests dealt evenly. -R: each connection keeps its own schedule at rate/c, offset by
        // i/rate so that together they send evenly spaced requests rather than c at once (wrk2's scheme).
        double frequency = Stopwatch.Frequency;
        for (int i = 0; i < settings.Connections; i++)
        {
            long toSend = settings.Requests is long n ? n / settings.Connections + (i < n % settings.Connections ? 1 : 0) : long.MaxValue;
            double interval = settings.Rate is double rate ? frequency * settings.Connections / rate : 0;
            double offset = settings.Rate is double r ? i * frequency / r : 0;
            HttpLoadWorker worker = _workers[i % _workers.Length];
            worker.Add(new HttpLoadConnection(worker, toSend, (long)offset, interval));
        }
        _stopped = new CountdownEvent(_workers.Length);
    }

    public HttpLoadSettings Settings { get; }

    /// <summary>The loops the connections run on (tests measure what they allocate).</summary>
    internal IReadOnlyList<EventLoop> Loops => _loops.Loops;

    /// <summary>The run's time zero: set once, before any loop starts its connections. -R schedules count from it.</summary>
    public long StartTimestamp { get; private set; }

    /// <summary>Responses and errors so far, summed racily over the loops: for the progress line only.</summary>
    public (long Responses, long Errors) Progress
    {
        get
        {
            long responses = 0;
            long errors = 0;
            foreach (HttpLoadWorker worker in _workers)
            {
                responses += Volatile.Read(ref worker.Responses);
                errors += Volatile.Read(ref worker.Errors.Total);
            }
            return (responses, errors);
        }
    }

    public HttpLoadResult Run()
    {
        _loops.Start();
        StartTimestamp = Stopwatch.GetTimestamp();
        foreach (HttpLoadWorker worker in _workers)
        {
            worker.RequestStart();
        }
        _stopped.Wait();
        _loops.Stop(); // joins the loop threads: their figures are safe to read from here on
        return Merge();
    }

    /// <summary>Stops the run early (Ctrl-C): requests in flight are abandoned without counting as errors.</summary>
    public void Interrupt()
    {
        _isInterrupted = true;
        foreach (HttpLoadWorker worker in _workers)
        {
            worker.RequestStop();
        }
    }

    /// <summary>A worker stopped (on its loop thread).</summary>
    internal void OnWorkerStopped() => _stopped.Signal();

    private HttpLoadResult Merge()
    {
        var latency = new LongHistogram(HighestUs, 3);
        LongHistogram? uncorrected = Settings.IsPaced ? new LongHistogram(HighestUs, 3) : null;
        var connect = new LongHistogram(HighestUs, 3);
        LongHistogram? handshake = Settings.IsTls ? new LongHistogram(HighestUs, 3) : null;
        (SslProtocols, TlsCipherSuite)? session = null;
        long opened = 0;
        var (errors, details) = LoadErrorTally.Merge(_workers.Select(w => w.Errors));
        var statuses = new SortedDictionary<int, long>();
        var internalErrors = new List<string>();
        long responses = 0, sent = 0, bytes = 0, closed = 0, end = 0;
        foreach (HttpLoadWorker worker in _workers)
        {
            latency.Add(worker.Latency);
            if (worker.UncorrectedLatency is { } u)
            {
                uncorrected!.Add(u);
            }
            connect.Add(worker.ConnectLatency);
            if (worker.HandshakeLatency is { } h)
            {
                handshake!.Add(h);
            }
            session ??= worker.TlsSession;
            opened += worker.ConnectionsOpened;
            responses += worker.Responses;
            sent += worker.RequestsSent;
            bytes += worker.BytesRead;
            closed += worker.ClosedByServer;
            end = Math.Max(end, worker.EndTimestamp);
            for (int status = 0; status < worker.StatusCounts.Length; status++)
            {
                if (worker.StatusCounts[status] > 0)
                {
                    statuses[status] = statuses.GetValueOrDefault(status) + worker.StatusCounts[status];
                }
            }
            internalErrors.AddRange(worker.LoopErrors.Select(e => $"{e.Message}: {e.Exception}"));
        }
        return new HttpLoadResult
        {
            Seconds = end == 0 ? 0 : Stopwatch.GetElapsedTime(StartTimestamp, end).TotalSeconds,
            Responses = responses,
            RequestsSent = sent,
            BytesRead = bytes,
            ClosedByServer = closed,
            StatusCounts = statuses,
            ErrorsByKind = errors,
            ErrorDetails = details,
            LatencyUs = latency,
            UncorrectedLatencyUs = uncorrected,
            ConnectionsOpened = opened,
            ConnectUs = connect,
            TlsHandshakeUs = handshake,
            TlsSession = session,
            IsInterrupted = _isInterrupted,
            InternalErrors = internalErrors,
        };
    }

    public void Dispose()
    {
        _loops.Dispose();
        _stopped.Dispose();
    }
}
