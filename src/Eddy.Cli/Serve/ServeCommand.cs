using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using Eddy.Hosting;
using Eddy.Http;
using Eddy.Loop;
using Eddy.Tls;
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
            Description = "Descriptors kept free for the runtime: when --max-connections is not given, the default limit is the descriptor limit minus those open at start minus this; and at any time, a connection that would take one of the last quarter of this many under the limit in force is closed at once (0: neither)",
            DefaultValueFactory = _ => ServerHostOptions.DefaultDescriptorReserve,
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
            IPAddress address = CommandLine.ParseHost(parse.GetValue(host)!);
            RequestHandler app = BuildApp(folder, parse.GetValue(metrics), parse.GetValue(accessLog));
            TimeSpan? watchdogThreshold = parse.GetValue(watchdog) is double ms ? TimeSpan.FromMilliseconds(ms) : null;
            // The library's host does the rest: descriptor limit, connection cap, loops, signals, drain, start line.
            var serverHost = new ServerHost(new ServerHostOptions
            {
                Name = "eddy serve",
                LoopCount = loopCount,
                LoopOptions = i => new EventLoopOptions
                {
                    Name = $"eddy-http-{i}",
                    // One timer per loop every 100 ms, recorded only while a listener (--metrics, dotnet-counters) is on.
                    LagSampleInterval = LagSampleInterval,
                    WatchdogThreshold = watchdogThreshold,
                },
                DrainTimeout = TimeSpan.FromSeconds(parse.GetValue(drainTimeout)),
                MaxConnections = parse.GetResult(maxConnections) is null ? null : parse.GetValue(maxConnections),
                DescriptorReserve = parse.GetValue(fdReserve),
            });
            // Plain HTTP on --port, unless HTTPS takes it (no --tls-port); HTTPS on --tls-port, or --port.
            if (certificate is null || httpsPort is not null)
            {
                serverHost.ListenHttp(app, new IPEndPoint(address, parse.GetValue(port)));
            }
            if (certificate is not null)
            {
                var tls = new TlsServerOptions();
                tls.Certificates.Add(certificate);
                certificate.ReloadFailed += (_, e) =>
                    Console.Error.WriteLine($"eddy serve: the certificate files changed but cannot be loaded; still serving the previous certificate: {e.GetException().Message}");
                serverHost.ListenHttps(app, new IPEndPoint(address, httpsPort ?? parse.GetValue(port)), tls);
            }
            try
            {
                return serverHost.RunAsync().GetAwaiter().GetResult();
            }
            catch (HostListenException e)
            {
                throw CommandLine.BindError(e.EndPoint, e.InnerException!);
            }
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
