using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using Eddy.Http;
using Eddy.Interop;
using Eddy.Loop;
using Eddy.Transports;

namespace Eddy.Cli.Serve;

/// <summary><c>eddy serve</c>: the demo web app on one event loop per core.</summary>
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
        var command = new Command("serve", "Serve the demo web app (/, /plaintext, /json, /anything, /static/)") { host, port, loops, staticDir, drainTimeout, maxConnections, fdReserve };
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
            ulong descriptors = DescriptorLimit.RaiseToHardLimit(); // each connection is a descriptor
            long? connectionLimit = parse.GetResult(maxConnections) is null
                ? DefaultConnectionLimit(descriptors, parse.GetValue(fdReserve))
                : parse.GetValue(maxConnections);
            var endPoint = new IPEndPoint(CommandLine.ParseHost(parse.GetValue(host)!), parse.GetValue(port));
            var app = DemoApp.Create(folder);
            var options = new HttpServerOptions { MaxConnections = connectionLimit };

            using var group = new LoopGroup(loopCount, i => new EventLoopOptions { Name = $"eddy-http-{i}" });
            group.Start();
            GroupServer server;
            try
            {
                server = app.ListenAsync(group, endPoint, options).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is not UserError)
            {
                throw CommandLine.BindError(endPoint, e);
            }
            var stop = new ManualResetEventSlim();
            using (CommandLine.OnTerminationSignal(stop.Set))
            {
                string limit = connectionLimit is long n ? $"connection limit {n}" : "no connection limit";
                Console.WriteLine($"eddy serve: listening on http://{server.EndPoint} ({loopCount} loop{(loopCount == 1 ? "" : "s")}, descriptor limit {descriptors}, {limit}); Ctrl-C stops");
                stop.Wait();
            }
            // Graceful stop: no new connections; idle keep-alive connections close now, requests in flight
            // finish (up to the drain timeout), then whatever is left is cut.
            server.ShutdownAsync(TimeSpan.FromSeconds(drainSeconds)).Wait();
            Console.WriteLine("eddy serve: stopped");
            return 0;
        });
        return command;
    }

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
