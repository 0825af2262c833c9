using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Eddy.WebSockets;

namespace Eddy.Cli.Load.Ws;

/// <summary>
/// <c>eddy load ws URL</c>: C WebSocket connections (Eddy's own client) echoing messages of S bytes, text or
/// binary, pipelined N deep, for a duration or a number of messages; or, with <c>--idle</c>, only held open (memory
/// per connection). Reports messages/s, MiB/s, latency percentiles and errors by kind, like <c>eddy load http</c>.
/// Exit codes: 0 done, 1 nothing succeeded, 2 bad input, 130 interrupted by a signal.
/// </summary>
internal static class WsLoadCommand
{
    private const int MaxMessageSize = 16 * 1024 * 1024;
    private const int LabelWidth = 16;

    public static Command Create()
    {
        var target = new Argument<string>("URL") { Description = "The WebSocket echo endpoint: ws://HOST:PORT/PATH or wss://…" };
        var connections = new Option<int>("--connections", "-c") { Description = "Concurrent connections", HelpName = "N", DefaultValueFactory = _ => 64 };
        var size = new Option<int>("--size") { Description = "Bytes per message", HelpName = "BYTES", DefaultValueFactory = _ => 32 };
        var text = new Option<bool>("--text") { Description = "Send text messages (random ASCII letters) instead of binary ones" };
        var pipeline = new Option<int>("--pipeline") { Description = "Messages each connection keeps in flight", HelpName = "N", DefaultValueFactory = _ => 1 };
        var duration = new Option<string>("--duration", "-d") { Description = "How long to echo (or, with --idle, to hold the connections), e.g. 10s, 500ms, 1m", HelpName = "TIME", DefaultValueFactory = _ => "10s" };
        var messages = new Option<long?>("--messages", "-n") { Description = "Stop after this many echoes (or at the end of -d, whichever comes first)", HelpName = "N" };
        var idle = new Option<bool>("--idle") { Description = "Only open the connections and hold them for -d: no messages (memory per connection)" };
        var timeout = new Option<string>("--timeout") { Description = "Longest wait for a handshake or an echo", HelpName = "TIME", DefaultValueFactory = _ => "10s" };
        var loops = new Option<int>("--loops") { Description = "Event loops (threads) to deal the connections to, one per usable CPU by default", HelpName = "N", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<string?>("--json") { Description = "Also write every figure to this file as JSON", HelpName = "FILE" };
        var html = new Option<string?>("--html") { Description = "Also write a self-contained page plotting the latency percentile curve", HelpName = "FILE" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print no report (use with --json or --html); errors still go to standard error" };
        var insecure = new Option<bool>("--insecure", "-k") { Description = "With wss://: accept any server certificate (for tests and benchmarks)" };
        var caCertificate = new Option<string?>("--cacert") { Description = "With wss://: trust the certificates in this PEM file instead of the system's store", HelpName = "FILE" };

        var command = new Command("ws", "Load a WebSocket echo endpoint: closed-loop connections echoing messages (or held idle), with latency percentiles")
        {
            target, connections, size, text, pipeline, duration, messages, idle, timeout, loops, json, html, quiet, insecure, caCertificate,
        };
        command.SetAction(parse =>
        {
            string url = parse.GetValue(target)!;
            if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("ws" or "wss") || uri.Fragment.Length > 0)
            {
                throw new UserError($"'{url}' is not a WebSocket URL (ws://HOST:PORT/PATH or wss://…, without a #fragment)");
            }
            int connectionCount = AtLeastOne("--connections", parse.GetValue(connections));
            int messageSize = parse.GetValue(size);
            if (messageSize is < 1 or > MaxMessageSize)
            {
                throw new UserError($"--size must be between 1 and {MaxMessageSize:N0} bytes, not {messageSize:N0}");
            }
            long? limit = parse.GetValue(messages);
            if (limit is < 1)
            {
                throw new UserError($"--messages must be at least 1, not {limit}");
            }
            bool isIdle = parse.GetValue(idle);
            if (isIdle && limit is not null)
            {
                throw new UserError("--messages cannot be combined with --idle: an idle run sends none");
            }
            TimeSpan runFor = LoadCommandLine.ParseDuration("--duration", parse.GetValue(duration)!);
            TimeSpan operationTimeout = LoadCommandLine.ParseDuration("--timeout", parse.GetValue(timeout)!);
            int loopCount = AtLeastOne("--loops", parse.GetValue(loops));
            var client = new WebSocketClientOptions
            {
                HandshakeTimeout = operationTimeout,
                Tls = LoadCommandLine.CreateTlsOptions(uri.Scheme == "wss", "needs a wss:// URL", uri.DnsSafeHost, parse.GetValue(insecure), parse.GetValue(caCertificate), operationTimeout),
                Connection = new WebSocketOptions
                {
                    MaxMessageSize = MaxMessageSize + 1,
                    KeepAliveInterval = isIdle ? TimeSpan.FromSeconds(30) : TimeSpan.Zero, // a busy connection needs no ping
                    CloseTimeout = operationTimeout,
                },
            };
            var settings = new WsLoadSettings(uri, connectionCount, Math.Min(loopCount, connectionCount), messageSize, parse.GetValue(text),
                AtLeastOne("--pipeline", parse.GetValue(pipeline)), runFor, limit, isIdle, operationTimeout, client);
            return Run(settings, parse.GetValue(json), parse.GetValue(html), parse.GetValue(quiet));
        });
        return command;
    }

    private static int AtLeastOne(string option, int value) =>
        value >= 1 ? value : throw new UserError($"{option} must be at least 1, not {value}");

    private static int Run(WsLoadSettings settings, string? jsonPath, string? htmlPath, bool quiet)
    {
        using FileStream? jsonFile = jsonPath is null ? null : LoadCommandLine.OpenOutput("--json", jsonPath);
        using FileStream? htmlFile = htmlPath is null ? null : LoadCommandLine.OpenOutput("--html", htmlPath);
        if (!quiet)
        {
            Console.WriteLine(Line("target", Describe(settings)));
        }
        WsLoadResult result;
        // The line a script waits for before it measures an idle run's memory.
        using (var load = new WsLoad(settings, quiet ? null : n => Console.WriteLine(Line("connected", $"{n:N0} of {settings.Connections:N0}"))))
        {
            using (CommandLine.OnTerminationSignal(load.Interrupt))
            {
                result = load.Run();
            }
        }
        WsLoadReport report = WsLoadReport.Create(settings, result);
        LoadCommandLine.WriteReports(report, jsonFile, WsLoadJsonContext.Default.WsLoadReport, htmlFile, WriteHtml);
        if (!quiet)
        {
            Print(report);
        }
        bool succeeded = settings.IsIdle ? report.Connected > 0 : report.Messages > 0;
        return report.Interrupted ? LoadCommandLine.Interrupted : succeeded ? 0 : LoadCommandLine.AllFailed;
    }

    private static string Describe(WsLoadSettings s)
    {
        string loops = s.Loops == 1 ? "1 loop" : $"{s.Loops} loops";
        if (s.IsIdle)
        {
            return $"{s.Target} ({s.Connections:N0} idle connections, {loops}, held {s.Duration.TotalSeconds:0.0##} s)";
        }
        string limit = s.MessageLimit is long n ? $", at most {n:N0} messages" : "";
        return $"{s.Target} ({s.Connections:N0} connections, {loops}, {s.MessageSize:N0}-byte {(s.IsText ? "text" : "binary")} messages, " +
            $"pipeline {s.Pipeline}, {s.Duration.TotalSeconds:0.0##} s{limit})";
    }

    private static void Print(WsLoadReport r)
    {
        var output = new StringBuilder();
        if (r.Interrupted)
        {
            output.AppendLine(Line("interrupted", $"by a signal after {r.Seconds:0.000} s; figures so far"));
        }
        if (r.Mode == "idle")
        {
            output.AppendLine(Line("open at end", $"{r.Connected:N0} of {r.Connections:N0}"));
        }
        else
        {
            output.AppendLine(Line("messages", $"{r.Messages:N0} in {r.Seconds:0.00} s   ({r.MessagesPerSecond:N1}/s, {r.BytesPerSecond / (1024 * 1024):N1} MiB/s echoed)"));
        }
        output.AppendLine(Line("errors", r.Errors.ToString("N0", CultureInfo.InvariantCulture)));
        foreach ((string kind, Dictionary<string, long> causes) in r.ErrorDetails)
        {
            output.AppendLine(Line("  " + kind, $"{r.ErrorsByKind[kind],-10:N0}({string.Join(", ", causes.Select(c => $"{c.Key} {c.Value:N0}"))})"));
        }
        if (r.Mode != "idle")
        {
            LatencySummary l = r.LatencyUs;
            output.AppendLine(Line("latency (µs)", r.Messages == 0
                ? "none measured"
                : $"p50 {l.P50:N0}  p90 {l.P90:N0}  p99 {l.P99:N0}  p99.9 {l.P999:N0}  max {l.Max:N0}  mean {l.Mean:N1}   (send → full echo)"));
        }
        Console.Write(output.ToString());
    }

    private static void WriteHtml(Stream stream, WsLoadReport r)
    {
        var f = CultureInfo.InvariantCulture;
        var figures = new List<(string, string)>
        {
            ("target", $"{r.Target}, WebSocket {r.Mode}"),
            ("load", string.Create(f, $"{r.Connections:N0} connections ({r.Connected:N0} open) on {r.Loops} loops, {r.MessageSize:N0}-byte {r.MessageType} messages, pipeline {r.Pipeline}")),
            ("messages", string.Create(f, $"{r.Messages:N0} in {r.Seconds:0.00} s ({r.MessagesPerSecond:N1}/s)") + (r.Interrupted ? " (interrupted)" : "")),
        };
        foreach (PercentileValue p in r.Percentiles)
        {
            figures.Add((p.Percentile == 100 ? "latency max" : string.Create(f, $"latency p{p.Percentile:0.###}"), LatencyPercentiles.Format(p.ValueUs)));
        }
        figures.Add(("errors", string.Join(", ", r.ErrorsByKind.Select(e => string.Create(f, $"{e.Key} {e.Value:N0}")))));
        HtmlReport.Write(stream, $"eddy load ws {r.Target}", figures, [new LatencyCurve("latency (send → full echo)", r.Distribution)]);
    }

    private static string Line(string label, string value) => label.PadRight(LabelWidth) + value;
}
