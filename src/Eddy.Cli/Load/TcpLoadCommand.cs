using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Eddy.Cli.Load;

/// <summary>
/// <c>eddy load tcp HOST:PORT</c>: the tutorial's Go client (N goroutines each connect, send "hello",
/// read the reply, close) grown into the load generator for the echo benchmarks. Two modes:
/// one-shot clients (default; <c>--rounds</c>) and closed-loop connections (<c>-d/--duration</c>).
/// Exit codes: 0 done, 1 nothing succeeded, 2 bad input, 130 interrupted by a signal.
/// </summary>
internal static class TcpLoadCommand
{
    public const int AllFailed = 1;
    public const int Interrupted = 130; // 128 + SIGINT, as shells report it

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
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print no report (use with --json); errors still go to standard error" };

        var command = new Command("tcp", "Load a TCP echo server: one-shot clients (default) or closed-loop connections (-d), with latency percentiles")
        {
            target, connections, message, size, rounds, duration, timeout, loops, json, quiet,
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
            TimeSpan? runFor = durationText is null ? null : ParseDuration("--duration", durationText);
            if (runFor is not null && parse.GetResult(rounds) is { Implicit: false })
            {
                throw new UserError("--rounds is for one-shot clients; it cannot be combined with -d/--duration");
            }
            TimeSpan operationTimeout = ParseDuration("--timeout", parse.GetValue(timeout)!);
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
            IPEndPoint endPoint = ResolveTarget(targetText); // last: it may wait for DNS

            var settings = new TcpLoadSettings(
                endPoint,
                connectionCount,
                Math.Min(loopCount, connectionCount), // a loop without connections would only add a thread
                fixedMessage,
                messageSize,
                roundCount,
                runFor,
                operationTimeout);
            return Run(settings, targetText, parse.GetValue(json), parse.GetValue(quiet));
        });
        return command;
    }

    private static int Run(TcpLoadSettings settings, string targetText, string? jsonPath, bool quiet)
    {
        // Open the JSON file first: a bad path should fail before a ten-second run, not after it.
        using FileStream? jsonFile = jsonPath is null ? null : OpenJson(jsonPath);
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
        if (jsonFile is not null)
        {
            JsonSerializer.Serialize(jsonFile, report, TcpLoadJsonContext.Default.TcpLoadReport);
            jsonFile.WriteByte((byte)'\n');
        }
        if (!quiet)
        {
            Print(report);
        }
        if (report.Interrupted)
        {
            return Interrupted;
        }
        return report.Successes == 0 ? AllFailed : 0;
    }

    private static FileStream OpenJson(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Create, FileAccess.Write);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserError($"cannot write --json file: {e.Message}");
        }
    }

    private static string Describe(TcpLoadSettings s, string targetText)
    {
        string address = s.Target.ToString();
        string where = address == targetText ? address : $"{targetText} ({address})";
        string loops = s.Loops == 1 ? "1 loop" : $"{s.Loops} loops";
        string messages = $"{s.MessageSize:N0}-byte {(s.Message is null ? "random " : "")}messages";
        if (s.Duration is { } duration)
        {
            return $"{where} (tcp echo, {s.Connections:N0} connections, {loops}, {messages}, {duration.TotalSeconds:0.0##} s, closed loop)";
        }
        string rounds = s.Rounds == 1 ? "" : $" × {s.Rounds:N0} rounds";
        return $"{where} (tcp echo, one-shot clients: {s.Connections:N0}{rounds}, {loops}, {messages})";
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
        Console.Write(output.ToString());
    }

    private static string Line(string label, string value) => label.PadRight(LabelWidth) + value;

    /// <summary>
    /// Parses HOST:PORT. The host is an IP literal or a name, resolved here, once, before any loop starts;
    /// IPv4 is preferred because the echo servers listen on 127.0.0.1 by default while "localhost" may
    /// resolve to ::1 first. IPv6 literals need brackets, as in URLs (RFC 3986 §3.2.2): [::1]:8888.
    /// </summary>
    internal static IPEndPoint ResolveTarget(string text)
    {
        string host;
        string port;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                throw new UserError($"'{text}' is not HOST:PORT (an IPv6 address is written [::1]:8888)");
            }
            host = text[1..close];
            port = text[(close + 2)..];
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0)
            {
                throw new UserError($"'{text}' is not HOST:PORT: the port is missing (e.g. 127.0.0.1:8888)");
            }
            host = text[..colon];
            port = text[(colon + 1)..];
            if (host.Contains(':'))
            {
                throw new UserError($"'{text}' is not HOST:PORT: write an IPv6 address in brackets, e.g. [::1]:8888");
            }
        }
        if (host.Length == 0)
        {
            throw new UserError($"'{text}' is not HOST:PORT: the host is missing (e.g. 127.0.0.1:8888)");
        }
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int portNumber))
        {
            throw new UserError($"'{port}' is not a port number (in '{text}')");
        }
        if (portNumber is < 1 or > 65535)
        {
            throw new UserError($"port {portNumber} is out of range: it must be between 1 and 65535");
        }
        return new IPEndPoint(ResolveHost(host), portNumber);
    }

    private static IPAddress ResolveHost(string host)
    {
        if (IPAddress.TryParse(host, out IPAddress? literal))
        {
            return literal;
        }
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(host);
        }
        catch (SocketException e)
        {
            throw new UserError($"cannot resolve '{host}': {e.Message}");
        }
        return Array.Find(addresses, a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? Array.Find(addresses, a => a.AddressFamily == AddressFamily.InterNetworkV6)
            ?? throw new UserError($"cannot resolve '{host}': no IPv4 or IPv6 address");
    }

    /// <summary>Parses a positive duration: a number and a unit, ms, s, m or h ("500ms", "1.5s", "1m"); a bare number is seconds.</summary>
    internal static TimeSpan ParseDuration(string option, string text)
    {
        ReadOnlySpan<char> span = text.AsSpan().Trim();
        (string Suffix, double Seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];
        double scale = 1;
        foreach (var (suffix, seconds) in units)
        {
            if (span.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                span = span[..^suffix.Length];
                scale = seconds;
                break;
            }
        }
        if (!double.TryParse(span, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value)
            || !double.IsFinite(value) || value * scale > TimeSpan.FromDays(1).TotalSeconds)
        {
            throw new UserError($"{option} '{text}' is not a duration: use a number and a unit, e.g. 10s, 500ms, 1m (at most 24h)");
        }
        TimeSpan result = TimeSpan.FromSeconds(value * scale);
        if (result < TimeSpan.FromMilliseconds(1))
        {
            throw new UserError($"{option} must be at least 1ms, not '{text}'");
        }
        return result;
    }
}
