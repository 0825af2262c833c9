using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Eddy.Tls;

namespace Eddy.Cli.Load;

/// <summary>
/// <c>eddy load tcp HOST:PORT</c>: the tutorial's Go client (N goroutines each connect, send "hello",
/// read the reply, close) grown into the load generator for the echo benchmarks. Two modes:
/// one-shot clients (default; <c>--rounds</c>) and closed-loop connections (<c>-d/--duration</c>), over plain TCP
/// or, with <c>--tls</c>, over TLS (<c>--insecure</c>, <c>--cacert</c>).
/// Exit codes: 0 done, 1 nothing succeeded, 2 bad input, 130 interrupted by a signal.
/// </summary>
internal static class TcpLoadCommand
{
    private const int MaxMessageSize = 16 * 1024 * 1024;
    private const int LabelWidth = 16;

    public static Command Create()
    {
        var target = new Argument<string>("HOST:PORT") { Description = "The echo server: an IP address or a host name, and a port ([::1]:8888 for IPv6)" };
        var connections = new Option<int>("--connections", "-c") { Description = "Concurrent connections", HelpName = "N", DefaultValueFactory = _ => 20 };
        var message = new Option<string>("--message") { Description = "The message each client sends", HelpName = "TEXT", DefaultValueFactory = _ => "hello" };
        var size = new Option<int?>("--size") { Description = "Send this many random bytes instead (new ones per connection); overrides --message", HelpName = "BYTES" };
        var rounds = new Option<int>("--rounds") { Description = "One-shot mode: how many times every client connects, echoes one message and closes", HelpName = "R", DefaultValueFactory = _ => 1 };
        var duration = new Option<string?>("--duration", "-d") { Description = "Closed-loop mode: keep the connections echoing for this long (e.g. 10s, 500ms, 1m)", HelpName = "TIME" };
        var timeout = new Option<string>("--timeout") { Description = "Longest wait for a connect, a send or a full reply", HelpName = "TIME", DefaultValueFactory = _ => "10s" };
        // ProcessorCount counts only the CPUs in the affinity mask, so `taskset -c 1 eddy load …` gets one loop.
        var loops = new Option<int>("--loops") { Description = "Event loops (threads) to deal the connections to, one per usable CPU by default", HelpName = "N", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<string?>("--json") { Description = "Also write every figure to this file as JSON", HelpName = "FILE" };
        var html = new Option<string?>("--html") { Description = "Also write a self-contained page plotting the latency percentile curve", HelpName = "FILE" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print no report (use with --json or --html); errors still go to standard error" };
        var tls = new Option<bool>("--tls") { Description = "Speak TLS to the server (an echo server behind TLS); HOST is the name sent (SNI) and checked" };
        var insecure = new Option<bool>("--insecure", "-k") { Description = "With --tls: accept any server certificate (for tests and benchmarks)" };
        var caCertificate = new Option<string?>("--cacert") { Description = "With --tls: trust the certificates in this PEM file instead of the system's store", HelpName = "FILE" };

        var command = new Command("tcp", "Load a TCP (or TLS, --tls) echo server: one-shot clients (default) or closed-loop connections (-d), with latency percentiles")
        {
            target, connections, message, size, rounds, duration, timeout, loops, json, html, quiet, tls, insecure, caCertificate,
        };
        command.SetAction(parse =>
        {
            int connectionCount = parse.GetValue(connections);
            if (connectionCount < 1)
            {
                throw new UserError($"--connections must be at least 1, not {connectionCount}");
            }
            int roundCount = parse.GetValue(rounds);
            if (roundCount < 1)
            {
                throw new UserError($"--rounds must be at least 1, not {roundCount}");
            }
            string? durationText = parse.GetValue(duration);
            TimeSpan? runFor = durationText is null ? null : LoadCommandLine.ParseDuration("--duration", durationText);
            if (runFor is not null && parse.GetResult(rounds) is { Implicit: false })
            {
                throw new UserError("--rounds is for one-shot clients; it cannot be combined with -d/--duration");
            }
            TimeSpan operationTimeout = LoadCommandLine.ParseDuration("--timeout", parse.GetValue(timeout)!);
            int loopCount = parse.GetValue(loops);
            if (loopCount < 1)
            {
                throw new UserError($"--loops must be at least 1, not {loopCount}");
            }

            byte[]? fixedMessage = null;
            int messageSize;
            if (parse.GetValue(size) is int randomSize)
            {
                if (randomSize is < 1 or > MaxMessageSize)
                {
                    throw new UserError($"--size must be between 1 and {MaxMessageSize:N0} bytes, not {randomSize:N0}");
                }
                messageSize = randomSize;
            }
            else
            {
                fixedMessage = Encoding.UTF8.GetBytes(parse.GetValue(message)!);
                if (fixedMessage.Length == 0)
                {
                    throw new UserError("--message must not be empty");
                }
                messageSize = fixedMessage.Length;
            }

            string targetText = parse.GetValue(target)!;
            TlsClientOptions? tlsOptions = LoadCommandLine.CreateTlsOptions(
                parse.GetValue(tls), "needs --tls", LoadCommandLine.SplitTarget(targetText).Host, parse.GetValue(insecure), parse.GetValue(caCertificate), operationTimeout);
            IPEndPoint endPoint = LoadCommandLine.ResolveTarget(targetText); // last: it may wait for DNS
            if (tlsOptions is not null)
            {
                // One handshake first: an untrusted certificate is one clear error, not a run of failed clients.
                LoadCommandLine.CheckReachable(endPoint.ToString() == targetText ? targetText : $"{targetText} ({endPoint})", endPoint, operationTimeout, tlsOptions);
            }

            var settings = new TcpLoadSettings(
                endPoint,
                connectionCount,
                Math.Min(loopCount, connectionCount), // a loop without connections would only add a thread
                fixedMessage,
                messageSize,
                roundCount,
                runFor,
                operationTimeout,
                tlsOptions);
            return Run(settings, targetText, parse.GetValue(json), parse.GetValue(html), parse.GetValue(quiet));
        });
        return command;
    }

    private static int Run(TcpLoadSettings settings, string targetText, string? jsonPath, string? htmlPath, bool quiet)
    {
        using FileStream? jsonFile = jsonPath is null ? null : LoadCommandLine.OpenOutput("--json", jsonPath);
        using FileStream? htmlFile = htmlPath is null ? null : LoadCommandLine.OpenOutput("--html", htmlPath);
        if (!quiet)
        {
            Console.WriteLine(Line("target", Describe(settings, targetText)));
        }

        TcpLoadWarmup.Run(settings);
        TcpLoadResult result;
        using (var load = new TcpLoad(settings))
        {
            using (CommandLine.OnTerminationSignal(load.Interrupt))
            {
                result = load.Run();
            }
        }

        TcpLoadReport report = TcpLoadReport.Create(settings, targetText, result);
        LoadCommandLine.WriteReports(report, jsonFile, TcpLoadJsonContext.Default.TcpLoadReport, htmlFile, WriteHtml);
        if (!quiet)
        {
            Print(report);
        }
        if (report.Interrupted)
        {
            return LoadCommandLine.Interrupted;
        }
        return report.Successes == 0 ? LoadCommandLine.AllFailed : 0;
    }

    private static void WriteHtml(Stream stream, TcpLoadReport r)
    {
        var f = CultureInfo.InvariantCulture;
        var figures = new List<(string, string)>
        {
            ("target", $"{r.Target} ({r.Address}), tcp echo"),
            ("load", string.Create(f, $"{r.Connections:N0} connections on {r.Loops} loops, {r.MessageSize:N0}-byte messages, {r.Mode}")),
            ("messages", string.Create(f, $"{r.Messages:N0} in {r.Seconds:0.00} s ({r.MessagesPerSecond:N1}/s)") + (r.Interrupted ? " (interrupted)" : "")),
        };
        foreach (PercentileValue p in r.Percentiles)
        {
            figures.Add((p.Percentile == 100 ? "latency max" : string.Create(f, $"latency p{p.Percentile:0.###}"), LatencyPercentiles.Format(p.ValueUs)));
        }
        figures.Add(("errors", string.Join(", ", r.ErrorsByKind.Select(e => string.Create(f, $"{e.Key} {e.Value:N0}")))));
        if (r.TlsHandshakeUs is { } h)
        {
            figures.Add(("TLS", $"{r.TlsVersion ?? "no handshake succeeded"}{(r.TlsCipherSuite is null ? "" : ", " + r.TlsCipherSuite)}"));
            figures.Add(("TLS handshake", string.Create(f, $"p50 {LatencyPercentiles.Format(h.P50)}, p99 {LatencyPercentiles.Format(h.P99)}, max {LatencyPercentiles.Format(h.Max)}, mean {LatencyPercentiles.Format(h.Mean)}")));
        }
        string what = r.Mode == "one-shot" ? "latency (connect → full reply)" : "latency (send → full reply)";
        HtmlReport.Write(stream, $"eddy load tcp {r.Target}", figures, [new LatencyCurve(what, r.Distribution)]);
    }

    private static string Describe(TcpLoadSettings s, string targetText)
    {
        string address = s.Target.ToString();
        string where = address == targetText ? address : $"{targetText} ({address})";
        string loops = s.Loops == 1 ? "1 loop" : $"{s.Loops} loops";
        string messages = $"{s.MessageSize:N0}-byte {(s.Message is null ? "random " : "")}messages";
        string protocol = s.Tls is { } tls ? $"tls echo ({LoadCommandLine.TrustText(tls)})" : "tcp echo";
        if (s.Duration is { } duration)
        {
            return $"{where} ({protocol}, {s.Connections:N0} connections, {loops}, {messages}, {duration.TotalSeconds:0.0##} s, closed loop)";
        }
        string rounds = s.Rounds == 1 ? "" : $" × {s.Rounds:N0} rounds";
        return $"{where} ({protocol}, one-shot clients: {s.Connections:N0}{rounds}, {loops}, {messages})";
    }

    private static void Print(TcpLoadReport r)
    {
        var output = new StringBuilder();
        if (r.Interrupted)
        {
            output.AppendLine(Line("interrupted", $"by a signal after {r.Seconds:0.000} s; figures so far"));
        }
        if (r.Mode == "one-shot")
        {
            long clients = (long)r.Connections * r.Rounds!.Value;
            output.AppendLine(Line("successes", $"{r.Successes:N0} of {clients:N0} clients"));
            output.AppendLine(Line("wall time", $"{r.Seconds:0.000} s   ({r.MessagesPerSecond:N1} clients/s)"));
        }
        else
        {
            double mibPerSecond = r.BytesPerSecond / (1024 * 1024);
            output.AppendLine(Line("messages", $"{r.Messages:N0} in {r.Seconds:0.00} s   ({r.MessagesPerSecond:N1}/s, {mibPerSecond:N1} MiB/s echoed)"));
        }
        output.AppendLine(Line("errors", r.Errors.ToString("N0", CultureInfo.InvariantCulture)));
        foreach (LoadErrorKind kind in Enum.GetValues<LoadErrorKind>())
        {
            string name = TcpLoadReport.KindName(kind);
            if (r.ErrorDetails.TryGetValue(name, out Dictionary<string, long>? causes))
            {
                string list = string.Join(", ", causes.Select(c => $"{c.Key} {c.Value:N0}"));
                output.AppendLine(Line("  " + name, $"{r.ErrorsByKind[name],-10:N0}({list})"));
            }
        }
        LatencySummary l = r.LatencyUs;
        string latency = r.Successes == 0
            ? "none measured"
            : $"p50 {l.P50:N0}  p90 {l.P90:N0}  p99 {l.P99:N0}  p99.9 {l.P999:N0}  max {l.Max:N0}  mean {l.Mean:N1}"
              + (r.Mode == "one-shot" ? "   (connect → full reply)" : "   (send → full reply)");
        output.AppendLine(Line("latency (µs)", latency));
        if (r.TlsHandshakeUs is { } h && r.TlsVersion is not null)
        {
            output.AppendLine(Line("handshake (µs)", $"p50 {h.P50:N0}  p90 {h.P90:N0}  p99 {h.P99:N0}  max {h.Max:N0}  mean {h.Mean:N1}   ({r.TlsVersion}, {r.TlsCipherSuite})"));
        }
        Console.Write(output.ToString());
    }

    private static string Line(string label, string value) => label.PadRight(LabelWidth) + value;
}
