using System.Net;
using System.Runtime.InteropServices;
using Eddy.Hosting.Internal;
using Eddy.Http;
using Eddy.Interop;
using Eddy.Loop;
using Eddy.Tls;
using Eddy.Transports;
using Microsoft.Extensions.Logging;

namespace Eddy.Hosting;

/// <summary>
/// The production host (ASP.NET Core's <c>app.Run()</c>, aiohttp's <c>web.run_app</c>): runs servers on one event
/// loop per core until SIGINT/SIGTERM or a cancellation token stops it, then drains them. Order of calls:
/// <c>new ServerHost(options)</c> → <c>Listen*</c> once per endpoint → <see cref="RunAsync"/> once.
/// <see cref="RunAsync"/> raises RLIMIT_NOFILE to its hard limit, sets one connection limit for every endpoint (kept
/// below the descriptors, see <see cref="ServerHostOptions.DescriptorReserve"/>), starts the loops, listens on every
/// endpoint (each over all loops with SO_REUSEPORT), logs its start line, and waits. On stop: no new connections,
/// idle keep-alive connections close, requests in flight get <see cref="ServerHostOptions.DrainTimeout"/> to finish,
/// the rest are cut; then the loops stop and <see cref="RunAsync"/> returns 0, an exit code for <c>Main</c>.
/// <code>
/// var host = new ServerHost();
/// host.ListenHttp(app.Build(), new IPEndPoint(IPAddress.Any, 8080));
/// host.ListenHttps(app.Build(), new IPEndPoint(IPAddress.Any, 8443), tls);
/// return await host.RunAsync();
/// </code>
/// </summary>
public sealed class ServerHost
{
    private readonly ServerHostOptions _options;
    private readonly ILogger _logger;
    private readonly List<Listener> _listeners = [];
    private readonly TaskCompletionSource<IReadOnlyList<EndPoint>> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private int _running; // 0 before RunAsync, 1 once it was called (set once)

    /// <summary>Creates a host; <paramref name="options"/> default to <see cref="ServerHostOptions"/>'s defaults.</summary>
    public ServerHost(ServerHostOptions? options = null)
    {
        _options = options ?? new ServerHostOptions();
        if (_options.DrainTimeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.DrainTimeout, "DrainTimeout must be zero or more.");
        }
        if (_options.MaxConnections is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.MaxConnections, "MaxConnections must be at least 1.");
        }
        if (_options.DescriptorReserve < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.DescriptorReserve, "DescriptorReserve must be 0 or more.");
        }
        _logger = _options.Logger ?? new LineLogger(_options.Name);
    }

    /// <summary>
    /// Completes with the bound address of each endpoint, in the order added (port 0 resolved), once every one
    /// listens and the start line is logged; fails as <see cref="RunAsync"/> does if the host cannot start.
    /// </summary>
    public Task<IReadOnlyList<EndPoint>> Listening => _listening.Task;

    /// <summary>Cancelled when the host starts to stop (signal or token), before the drain: long requests (long polls, WebSockets) can end on it.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>
    /// Serves on <paramref name="endPoint"/> with servers that <paramref name="createServer"/> makes: it is called on each
    /// loop's thread with the loop, the address to bind and whether to set SO_REUSEPORT (e.g.
    /// <c>(loop, at, reusePort) =&gt; loop.CreateServer(factory, at, reusePort: reusePort)</c>, or a streams server's
    /// <c>loop.StartServer</c>). <paramref name="scheme"/> names the endpoint in the start line.
    /// </summary>
    public ServerHost Listen(EndPoint endPoint, Func<EventLoop, EndPoint, bool, Server> createServer, string scheme = "tcp")
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(createServer);
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        if (Volatile.Read(ref _running) != 0)
        {
            throw new InvalidOperationException("Listen must be called before RunAsync.");
        }
        _listeners.Add(new Listener(endPoint, createServer, scheme));
        return this;
    }

    /// <summary>Serves <paramref name="application"/> over HTTP on <paramref name="endPoint"/>.</summary>
    public ServerHost ListenHttp(RequestHandler application, EndPoint endPoint, HttpServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(application);
        return Listen(endPoint, (loop, at, reusePort) => HttpServer.Listen(loop, application, at, options, reusePort: reusePort), "http");
    }

    /// <summary>Serves <paramref name="application"/> over HTTPS (TLS as <paramref name="tls"/> says) on <paramref name="endPoint"/>.</summary>
    public ServerHost ListenHttps(RequestHandler application, EndPoint endPoint, TlsServerOptions tls, HttpServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(application);
        ArgumentNullException.ThrowIfNull(tls);
        return Listen(endPoint, (loop, at, reusePort) => HttpServer.Listen(loop, application, at, tls, options, reusePort: reusePort), "https");
    }

    /// <summary>
    /// Runs until SIGINT/SIGTERM (with <see cref="ServerHostOptions.HandleSignals"/>) or <paramref name="cancellationToken"/>,
    /// then drains and returns 0. Throws <see cref="HostListenException"/> when an endpoint cannot be bound (nothing
    /// is left listening then). Callable once.
    /// </summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _running, 1) != 0)
        {
            throw new InvalidOperationException("RunAsync was already called; a host runs once.");
        }
        if (_listeners.Count == 0)
        {
            var error = new InvalidOperationException("The host has nothing to serve: call Listen, ListenHttp or ListenHttps before RunAsync.");
            _listening.TrySetException(error);
            throw error;
        }
        using var group = new LoopGroup(_options.LoopCount, _options.LoopOptions);
        var servers = new List<GroupServer>();
        try
        {
            ulong descriptors = DescriptorLimit.RaiseToHardLimit(); // each connection is a descriptor
            long? connectionLimit = _options.MaxConnections ?? DefaultConnectionLimit(descriptors, _options.DescriptorReserve);
            // One limit for every endpoint and loop: it guards the descriptors, which they all draw on.
            ConnectionLimit? limit = connectionLimit is long max ? new ConnectionLimit(max) : null;
            group.Start();
            foreach (Listener listener in _listeners)
            {
                servers.Add(await ListenOnEachLoopAsync(group, listener, limit, RunTimeReserve(_options.DescriptorReserve), servers));
            }

            var stop = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            using (HandleSignals(stop))
            using (cancellationToken.Register(() => stop.TrySetResult("cancelled")))
            {
                string urls = string.Join(" and ", servers.Select((s, i) => $"{_listeners[i].Scheme}://{s.EndPoint}"));
                _logger.LogInformation("listening on {Urls} ({Loops}, descriptor limit {DescriptorLimit}, {ConnectionLimit}){Stops}",
                    urls, group.Count == 1 ? "1 loop" : $"{group.Count} loops", descriptors,
                    connectionLimit is long n ? $"connection limit {n}" : "no connection limit",
                    _options.HandleSignals ? "; Ctrl-C stops" : "");
                _listening.TrySetResult(servers.Select(s => s.EndPoint).ToArray());
                await stop.Task.ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            _listening.TrySetException(e);
            await Task.WhenAll(servers.Select(s => s.CloseAsync())).ConfigureAwait(false);
            throw;
        }
        // Graceful stop, on every endpoint at once: no new connections; idle keep-alive connections close now,
        // requests in flight finish (up to the drain timeout), then whatever is left is cut.
        _stopping.Cancel();
        await Task.WhenAll(servers.Select(s => s.ShutdownAsync(_options.DrainTimeout))).ConfigureAwait(false);
        group.Stop();
        _logger.LogInformation("stopped");
        return 0;
    }

    /// <summary>The listener on every loop of the group, each server under <paramref name="limit"/>, set on its loop thread before it can accept.</summary>
    private static async Task<GroupServer> ListenOnEachLoopAsync(LoopGroup group, Listener listener, ConnectionLimit? limit, int reserve, List<GroupServer> started)
    {
        try
        {
            return await group.CreateServerOnEachLoopAsync((loop, bindTo, reusePort) =>
            {
                Server server = listener.CreateServer(loop, bindTo, reusePort);
                server.ConnectionLimit = limit;
                server.DescriptorReserve = reserve;
                return server;
            }, listener.EndPoint).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await Task.WhenAll(started.Select(s => s.CloseAsync())).ConfigureAwait(false);
            started.Clear();
            throw new HostListenException(listener.EndPoint, e);
        }
    }

    /// <summary>SIGINT and SIGTERM complete <paramref name="stop"/> instead of ending the process, while the returned registrations live.</summary>
    private IDisposable? HandleSignals(TaskCompletionSource<string> stop)
    {
        if (!_options.HandleSignals)
        {
            return null;
        }
        void Handler(PosixSignalContext context)
        {
            context.Cancel = true; // the host shuts down itself, gracefully
            stop.TrySetResult(context.Signal.ToString());
        }
        return new SignalRegistrations(
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handler),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handler));
    }

    /// <summary>
    /// The descriptors the accept path keeps free under the limit in force (<c>Server.DescriptorReserve</c>): a quarter
    /// of the reserve (32 by default). While the limit stays as it was at start, the connection cap keeps the whole
    /// reserve free and binds first; this is the floor for when another process lowers the limit, leaving the runtime
    /// enough to start its threads (one start takes about three descriptors, RELIABILITY.md).
    /// </summary>
    private static int RunTimeReserve(long reserve) => reserve <= 0 ? 0 : (int)Math.Clamp(reserve / 4, 1, int.MaxValue);

    private static long? DefaultConnectionLimit(ulong descriptors, long reserve)
    {
        if (reserve == 0 || descriptors > long.MaxValue)
        {
            return null;
        }
        long openNow = Directory.GetFileSystemEntries("/proc/self/fd").Length;
        return Math.Max(1, (long)descriptors - openNow - reserve);
    }

    private sealed record Listener(EndPoint EndPoint, Func<EventLoop, EndPoint, bool, Server> CreateServer, string Scheme);

    private sealed class SignalRegistrations(params PosixSignalRegistration[] registrations) : IDisposable
    {
        public void Dispose()
        {
            foreach (PosixSignalRegistration registration in registrations)
            {
                registration.Dispose();
            }
        }
    }
}
