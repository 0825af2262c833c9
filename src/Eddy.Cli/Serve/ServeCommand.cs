using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using Eddy.Http;
using Eddy.Interop;
using Eddy.Loop;
using Eddy.Tls;
using Eddy.Transports;
using Eddy.Web;

namespace Eddy.Cli.Serve;

/// <summary>
/// <c>eddy serve</c>: the demo web app on one event loop per core, over HTTP, HTTPS (<c>--tls-cert</c>/<c>--tls-key</c>),
/// or both (<c>--tls-port</c>). The certificate files are watched and reloaded when they change.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var host = CommandLine.HostOption("127.0.0.1");
        var port = CommandLine.PortOption(8080);
        var loops = new Option<int>("--loops") { Description = "Event loops, one thread each (default: one per core)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var staticDir = new Option<string?>("--static") { Description = "Folder served under /static/ (default: the demo's own files)" };
        var drainTimeout = new Option<double>("--drain-timeout")
        {
            Description = "Seconds that requests in flight get to finish on SIGINT/SIGTERM before their connections are cut (as Kestrel's ShutdownTimeout)",
            DefaultValueFactory = _ => 30,
            Validators = { result => Check(result, text => double.TryParse(text, CultureInfo.InvariantCulture, out double s) ? s is >= 0 and <= 86_400 : null, "--drain-timeout must be 0 to 86400 seconds") },
        };
        var maxConnections = new Option<long>("--max-connections")
        {
            Description = "Most connections served at once; more are accepted and closed at once (default: no limit)",
            Validators = { result => Check(result, text => long.TryParse(text, CultureInfo.InvariantCulture, out long n) ? n >= 1 : null, "--max-connections must be at least 1") },
        };
        var fdReserve = new Option<long>("--fd-reserve")
        {
            Description = "Descriptors kept free for the runtime when --max-connections is not given: the default limit is the descriptor limit minus those open at start minus this (0: no default limit)",
            DefaultValueFactory = _ => DefaultDescriptorReserve,
            Validators = { result => Check(result, text => long.TryParse(text, CultureInfo.InvariantCulture, out long n) ? n >= 0 : null, "--fd-reserve must be 0 or more") },
        };
        var tlsCertificate = new Option<string?>("--tls-cert") { Description = "Serve HTTPS with this certificate (PEM, followed by its chain); reloaded when the file changes", HelpName = "FILE" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "The private key of --tls-cert (PEM, unencrypted)", HelpName = "FILE" };
        var tlsPort = new Option<int?>("--tls-port")
        {
            Description = "Serve HTTPS on this port and plain HTTP on --port (default: HTTPS on --port, no plain HTTP)",
            HelpName = "PORT",
            Validators = { result => Check(result, text => int.TryParse(text, CultureInfo.InvariantCulture, out int p) ? p is >= 0 and <= 65535 : null, "--tls-port must be between 0 and 65535") },
        };
        var metrics = new Option<bool>("--metrics") { Description = "Serve the metrics (requests, connections, TLS handshakes, loop lag) at /metrics in the Prometheus text format" };
        var accessLog = new Option<bool>("--access-log") { Description = "Log every request (method, path, status, duration, bytes) to standard output" };
        var watchdog = new Option<double?>("--watchdog")
        {
            Description = "Warn (on standard error) when a loop is blocked longer than this many milliseconds, naming the route that blocks it",
            HelpName = "MS",
            Validators = { result => Check(result, text => double.TryParse(text, CultureInfo.InvariantCulture, out double ms) ? ms is >= 1 and <= 3_600_000 : null, "--watchdog must be 1 to 3600000 ms") },
        };
        var command = new Command("serve", "Serve the demo web app (/, /plaintext, /json, /anything, /static/) over HTTP or HTTPS")
        {
            host, port, loops, staticDir, drainTimeout, maxConnections, fdReserve, tlsCertificate, tlsKey, tlsPort, metrics, accessLog, watchdog,
        };
        command.SetAction(parse =>
        {
            int loopCount = parse.GetValue(loops);
            if (loopCount < 1)
            {
                throw new UserError("--loops must be at least 1");
            }
            string folder = parse.GetValue(staticDir) ?? DemoApp.DefaultStaticFolder;
            if (!Directory.Exists(folder))
            {
                throw new UserError($"--static: no folder {folder}");
            }
            double drainSeconds = parse.GetValue(drainTimeout);
            string? certificatePath = parse.GetValue(tlsCertificate);
            string? keyPath = parse.GetValue(tlsKey);
            if ((certificatePath is null) != (keyPath is null))
            {
                throw new UserError("--tls-cert and --tls-key go together: give both for HTTPS");
            }
            int? httpsPort = parse.GetValue(tlsPort);
            if (httpsPort is not null && certificatePath is null)
            {
                throw new UserError("--tls-port needs --tls-cert and --tls-key");
            }
            // Loaded before anything listens: a bad file is one line and exit 2, not a server without HTTPS.
            using TlsCertificate? certificate = certificatePath is null ? null : LoadCertificate(certificatePath, keyPath!);
            ulong descriptors = DescriptorLimit.RaiseToHardLimit(); // each connection is a descriptor
            long? connectionLimit = parse.GetResult(maxConnections) is null
                ? DefaultConnectionLimit(descriptors, parse.GetValue(fdReserve))
                : parse.GetValue(maxConnections);
            IPAddress address = CommandLine.ParseHost(parse.GetValue(host)!);
            RequestHandler app = BuildApp(folder, parse.GetValue(metrics), parse.GetValue(accessLog));
            TimeSpan? watchdogThreshold = parse.GetValue(watchdog) is double ms ? TimeSpan.FromMilliseconds(ms) : null;
            TlsServerOptions? tls = null;
            if (certificate is not null)
            {
                tls = new TlsServerOptions();
                tls.Certificates.Add(certificate);
                certificate.ReloadFailed += (_, e) =>
                    Console.Error.WriteLine($"eddy serve: the certificate files changed but cannot be loaded; still serving the previous certificate: {e.GetException().Message}");
            }
            // Plain HTTP on --port, unless HTTPS takes it (no --tls-port); HTTPS on --tls-port, or --port.
            var endPoints = new List<(IPEndPoint EndPoint, TlsServerOptions? Tls)>();
            if (tls is null || httpsPort is not null)
            {
                endPoints.Add((new IPEndPoint(address, parse.GetValue(port)), null));
            }
            if (tls is not null)
            {
                endPoints.Add((new IPEndPoint(address, httpsPort ?? parse.GetValue(port)), tls));
            }
            // One limit for every endpoint and loop: it guards the descriptors, which they all draw on.
            ConnectionLimit? limit = connectionLimit is long max ? new ConnectionLimit(max) : null;
            var options = new HttpServerOptions();

            using var group = new LoopGroup(loopCount, i => new EventLoopOptions
            {
                Name = $"eddy-http-{i}",
                // One timer per loop every 100 ms, recorded only while a listener (--metrics, dotnet-counters) is on.
                LagSampleInterval = LagSampleInterval,
                WatchdogThreshold = watchdogThreshold,
            });
            group.Start();
            var servers = new List<GroupServer>();
            foreach (var (endPoint, endPointTls) in endPoints)
            {
                try
                {
                    servers.Add(ListenAsync(group, app, endPoint, endPointTls, options, limit).GetAwaiter().GetResult());
                }
                catch (Exception e) when (e is not UserError)
                {
                    Task.WhenAll(servers.Select(s => s.CloseAsync())).Wait();
                    throw CommandLine.BindError(endPoint, e);
                }
            }
            var stop = new ManualResetEventSlim();
            using (CommandLine.OnTerminationSignal(stop.Set))
            {
                string urls = string.Join(" and ", servers.Select((s, i) => $"{(endPoints[i].Tls is null ? "http" : "https")}://{s.EndPoint}"));
                string limitText = connectionLimit is long n ? $"connection limit {n}" : "no connection limit";
                Console.WriteLine($"eddy serve: listening on {urls} ({loopCount} loop{(loopCount == 1 ? "" : "s")}, descriptor limit {descriptors}, {limitText}); Ctrl-C stops");
                stop.Wait();
            }
            // Graceful stop, on every endpoint at once: no new connections; idle keep-alive connections close now,
            // requests in flight finish (up to the drain timeout), then whatever is left is cut.
            Task.WhenAll(servers.Select(s => s.ShutdownAsync(TimeSpan.FromSeconds(drainSeconds)))).Wait();
            Console.WriteLine("eddy serve: stopped");
            return 0;
        });
        return command;
    }

    /// <summary>How often each loop samples its lag (eddy.loop.lag).</summary>
    private static readonly TimeSpan LagSampleInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The demo app, with the access log outermost (it times everything) and /metrics when asked for.</summary>
    private static RequestHandler BuildApp(string folder, bool metrics, bool accessLog)
    {
        var app = new WebApp();
        if (accessLog)
        {
            app.UseAccessLog(new ConsoleLineLogger("Eddy.AccessLog", Console.Out));
        }
        DemoApp.Map(app, folder);
        if (metrics)
        {
            ServeMetrics.Map(app);
        }
        return app.Build();
    }

    /// <summary>The certificate and key, watched for changes; a file that cannot be loaded is a one-line <see cref="UserError"/>.</summary>
    private static TlsCertificate LoadCertificate(string certificatePath, string keyPath)
    {
        try
        {
            return TlsCertificate.FromPemFiles(certificatePath, keyPath, watch: true);
        }
        catch (TlsConfigurationException e)
        {
            throw new UserError(e.Message);
        }
    }

    /// <summary>
    /// The app on every loop of the group (HTTPS when <paramref name="tls"/> is given), each listener under the one
    /// shared <paramref name="limit"/>, set on the loop thread before the listener can accept anything.
    /// </summary>
    private static Task<GroupServer> ListenAsync(LoopGroup group, RequestHandler app, IPEndPoint endPoint, TlsServerOptions? tls, HttpServerOptions options, ConnectionLimit? limit) =>
        group.CreateServerOnEachLoopAsync((loop, bindTo, reusePort) =>
        {
            Server server = tls is null
                ? HttpServer.Listen(loop, app, bindTo, options, reusePort: reusePort)
                : HttpServer.Listen(loop, app, bindTo, tls, options, reusePort: reusePort);
            server.ConnectionLimit = limit;
            return server;
        }, endPoint);

    /// <summary>
    /// Why a default limit: when connections take the very last descriptor, the server itself copes (accept
    /// backs off), but the .NET runtime does not — a thread it starts then fails to open what it needs and
    /// the process aborts ("Out of memory", measured in bench/soak.sh; Kestrel dies the same way). Keeping
    /// descriptors free for it means a flood is refused (accepted and closed) instead. The reserve comes on
    /// top of the descriptors already open when the server starts (~60: the runtime's own, the listeners)
    /// and leaves room for what the runtime opens later (each assembly loaded lazily keeps two).
    /// </summary>
    private const long DefaultDescriptorReserve = 128;

    private static long? DefaultConnectionLimit(ulong descriptors, long reserve)
    {
        if (reserve == 0 || descriptors > long.MaxValue)
        {
            return null;
        }
        long openNow = Directory.GetFileSystemEntries("/proc/self/fd").Length;
        return Math.Max(1, (long)descriptors - openNow - reserve);
    }

    /// <summary>Reports <paramref name="message"/> when the option's value is out of range; a value that is not a number (<paramref name="inRange"/> gives null) is left to the parser's own error.</summary>
    private static void Check(OptionResult result, Func<string, bool?> inRange, string message)
    {
        string? text = result.Tokens.LastOrDefault()?.Value;
        if (text is not null && inRange(text) == false)
        {
            result.AddError($"{message}, not {text}");
        }
    }
}
