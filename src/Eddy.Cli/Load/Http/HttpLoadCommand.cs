using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Text;
using System.Text.Json;
using Eddy.Tls;

namespace Eddy.Cli.Load.Http;

/// <summary>
/// <c>eddy load http URL</c>: a wrk-class HTTP/1.1 load generator on Eddy's own loops — keep-alive
/// connections, pipelining, a constant-rate mode with wrk2's coordinated-omission correction, latency
/// percentiles from HdrHistogram, JSON and HTML reports. https:// URLs run over Eddy's TLS transport
/// (<c>--insecure</c>, <c>--cacert</c>), and <c>--new-connection-per-request</c> measures connects and handshakes.
/// Exit codes: 0 done, 1 no response at all, 2 bad input (or the server unreachable), 130 interrupted.
/// </summary>
internal static class HttpLoadCommand
{
    private const int MaxPipeline = 1024;
    private static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(10);

    public static Command Create()
    {
        var url = new Argument<string>("URL") { Description = "What to request, e.g. http://127.0.0.1:8080/plaintext (HTTP/1.1, or over TLS with https://)" };
        var connections = new Option<int>("--connections", "-c") { Description = "Keep-alive connections, kept open for the whole run", HelpName = "N", DefaultValueFactory = _ => 10 };
        var duration = new Option<string?>("--duration", "-d") { Description = "Run for this long (10s, 500ms, 1m; a bare number is seconds). Default 10s unless -n is given", HelpName = "TIME" };
        var requests = new Option<long?>("--requests", "-n") { Description = "Send exactly this many requests, then stop once each has ended (as a response or an error)", HelpName = "N" };
        var rate = new Option<double?>("--rate", "-R") { Description = "Constant throughput: requests per second over all connections; latency counts from each request's scheduled time (needs -d)", HelpName = "REQ/S" };
        var pipeline = new Option<int>("--pipeline") { Description = "Requests written at once per connection (HTTP pipelining)", HelpName = "N", DefaultValueFactory = _ => 1 };
        var method = new Option<string>("--method", "-m") { Description = "Request method", HelpName = "METHOD", DefaultValueFactory = _ => "GET" };
        var headers = new Option<string[]>("--header", "-H") { Description = "A request header, \"Name: value\" (repeatable)", HelpName = "HEADER", Arity = ArgumentArity.ZeroOrMore };
        var body = new Option<string?>("--body") { Description = "Request body: the text itself, or @FILE for a file's bytes", HelpName = "TEXT|@FILE" };
        var timeout = new Option<string>("--timeout") { Description = "Longest wait for a connect or a response; later ones count as timeouts", HelpName = "TIME", DefaultValueFactory = _ => "2s" };
        // ProcessorCount counts only the CPUs in the affinity mask, so `taskset -c 1 eddy load …` gets one loop.
        var loops = new Option<int>("--loops") { Description = "Event loops (threads) to deal the connections to, one per usable CPU by default", HelpName = "N", DefaultValueFactory = _ => Environment.ProcessorCount };
        var json = new Option<string?>("--json") { Description = "Also write every figure, with the full latency distribution, to this file as JSON", HelpName = "FILE" };
        var html = new Option<string?>("--html") { Description = "Also write a self-contained page plotting the latency percentile curve", HelpName = "FILE" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print no report (use with --json or --html); errors still go to standard error" };
        var insecure = new Option<bool>("--insecure", "-k") { Description = "https: accept any server certificate, as curl -k (for tests and benchmarks)" };
        var caCertificate = new Option<string?>("--cacert") { Description = "https: trust the certificates in this PEM file (a CA, or a self-signed certificate) instead of the system's store", HelpName = "FILE" };
        var newConnection = new Option<bool>("--new-connection-per-request")
        {
            Description = "Open a new connection (and for https a new TLS handshake) for every request, sending Connection: close, to measure connections or handshakes per second",
        };

        var command = new Command("http", "Load an HTTP/1.1 or HTTPS server like wrk (and wrk2 with -R): requests/s, latency percentiles, errors by kind")
        {
            url, connections, duration, requests, rate, pipeline, method, headers, body, timeout, loops, json, html, quiet, insecure, caCertificate, newConnection,
        };
        command.SetAction(parse =>
        {
            int connectionCount = parse.GetValue(connections);
            if (connectionCount < 1)
            {
                throw new UserError($"--connections must be at least 1, not {connectionCount}");
            }
            string? durationText = parse.GetValue(duration);
            TimeSpan? runFor = durationText is null ? null : LoadCommandLine.ParseDuration("--duration", durationText);
            long? requestCount = parse.GetValue(requests);
            if (requestCount is < 1)
            {
                throw new UserError($"--requests must be at least 1, not {requestCount}");
            }
            double? requestRate = parse.GetValue(rate);
            if (requestRate is { } r && (!double.IsFinite(r) || r <= 0))
            {
                throw new UserError($"--rate must be a positive number of requests per second, not {r}");
            }
            if (requestRate is not null && runFor is null)
            {
                throw new UserError("--rate needs -d/--duration: a constant rate runs for a set time");
            }
            if (runFor is null && requestCount is null)
            {
                runFor = DefaultDuration;
            }
            int depth = parse.GetValue(pipeline);
            if (depth is < 1 or > MaxPipeline)
            {
                throw new UserError($"--pipeline must be between 1 and {MaxPipeline}, not {depth}");
            }
            bool oneRequestPerConnection = parse.GetValue(newConnection);
            if (oneRequestPerConnection && depth > 1)
            {
                throw new UserError("--pipeline cannot be combined with --new-connection-per-request: each connection carries one request");
            }
            int loopCount = parse.GetValue(loops);
            if (loopCount < 1)
            {
                throw new UserError($"--loops must be at least 1, not {loopCount}");
            }
            TimeSpan requestTimeout = LoadCommandLine.ParseDuration("--timeout", parse.GetValue(timeout)!);
            string verb = parse.GetValue(method)!;
            if (verb.Length == 0 || !verb.All(IsTokenChar))
            {
                throw new UserError($"--method '{verb}' is not a method name (e.g. GET, POST)");
            }
            List<(string, string)> fields = (parse.GetValue(headers) ?? []).Select(ParseHeader).ToList();
            using LoadRequestBody payload = LoadRequestBody.Read(parse.GetValue(body)); // a large file stays mapped until the run ends

            Uri target = ParseUrl(parse.GetValue(url)!);
            bool skipValidation = parse.GetValue(insecure);
            string? caPath = parse.GetValue(caCertificate);
            TlsClientOptions? tls = LoadCommandLine.CreateTlsOptions(
                target.Scheme == Uri.UriSchemeHttps, "is for https:// URLs", target.IdnHost, skipValidation, caPath, requestTimeout, SslApplicationProtocol.Http11);
            IPEndPoint endPoint = new(LoadCommandLine.ResolveHost(target.IdnHost), target.Port); // may wait for DNS
            string where = target.Authority == endPoint.ToString() ? target.Authority : $"{target.Authority} ({endPoint})";
            LoadCommandLine.CheckReachable(where, endPoint, requestTimeout, tls);

            var settings = new HttpLoadSettings(
                target,
                endPoint,
                connectionCount,
                Math.Min(loopCount, connectionCount), // a loop without connections would only add a thread
                depth,
                runFor,
                requestCount,
                requestRate,
                requestTimeout,
                verb,
                payload.Streamed is null
                    ? HttpRequestBuilder.Build(target, verb, fields, payload.Inline, close: oneRequestPerConnection)
                    : HttpRequestBuilder.BuildHead(target, verb, fields, payload.Length, close: oneRequestPerConnection),
                payload.Streamed,
                tls,
                oneRequestPerConnection);
            return Run(settings, parse.GetValue(json), parse.GetValue(html), parse.GetValue(quiet));
        });
        return command;
    }

    private static int Run(HttpLoadSettings settings, string? jsonPath, string? htmlPath, bool quiet)
    {
        using FileStream? jsonFile = jsonPath is null ? null : LoadCommandLine.OpenOutput("--json", jsonPath);
        using FileStream? htmlFile = htmlPath is null ? null : LoadCommandLine.OpenOutput("--html", htmlPath);
        if (!quiet)
        {
            Console.WriteLine(Describe(settings));
        }

        HttpLoadWarmup.Run(settings);
        HttpLoadResult result;
        using (var load = new HttpLoad(settings))
        {
            using (CommandLine.OnTerminationSignal(load.Interrupt))
            using (quiet ? null : ProgressLine.StartIfTerminal(() => ProgressText(load)))
            {
                result = load.Run();
            }
        }

        HttpLoadReport report = HttpLoadReport.Create(settings, result);
        LoadCommandLine.WriteReports(report, jsonFile, HttpLoadJsonContext.Default.HttpLoadReport, htmlFile, WriteHtml);
        if (!quiet)
        {
            Console.Write(Format(report));
        }
        foreach (string error in result.InternalErrors.Take(5))
        {
            Console.Error.WriteLine($"eddy: internal error in the load generator: {error}");
        }
        if (report.Interrupted)
        {
            return LoadCommandLine.Interrupted;
        }
        return report.Requests == 0 ? LoadCommandLine.AllFailed : 0;
    }

    private static string ProgressText(HttpLoad load)
    {
        (long responses, long errors) = load.Progress;
        double seconds = Math.Max(System.Diagnostics.Stopwatch.GetElapsedTime(load.StartTimestamp).TotalSeconds, 1e-3);
        return string.Create(CultureInfo.InvariantCulture, $"  {seconds,5:0.0} s   {responses,12:N0} requests   {responses / seconds,12:N0} req/s   {errors:N0} errors");
    }

    /// <summary>wrk's header: what runs against what.</summary>
    private static string Describe(HttpLoadSettings s)
    {
        var f = CultureInfo.InvariantCulture;
        string length = s.Duration is { } d ? $"{FormatSeconds(d.TotalSeconds)} test" : $"{s.Requests:N0}-request test";
        if (s.Duration is not null && s.Requests is not null)
        {
            length = $"{FormatSeconds(s.Duration.Value.TotalSeconds)} / {s.Requests:N0}-request test";
        }
        string address = s.Target.ToString();
        string where = s.Url.Host == s.Target.Address.ToString() || s.Url.Host == $"[{s.Target.Address}]" ? "" : $" ({address})";
        var line = new StringBuilder();
        line.Append(f, $"Running {length} @ {s.Method} {s.Url}{where}\n");
        line.Append(f, $"  {s.Loops} {(s.Loops == 1 ? "loop" : "loops")} and {s.Connections:N0} {(s.Connections == 1 ? "connection" : "connections")}");
        if (s.Pipeline > 1)
        {
            line.Append(f, $", pipeline {s.Pipeline}");
        }
        if (s.Rate is { } rate)
        {
            line.Append(f, $", constant rate {rate:N0} req/s");
        }
        if (s.NewConnectionPerRequest)
        {
            line.Append(s.IsTls ? ", a new connection and TLS handshake per request" : ", a new connection per request");
        }
        if (s.Tls is { } tls)
        {
            line.Append(", TLS (").Append(LoadCommandLine.TrustText(tls)).Append(')');
        }
        return line.ToString();
    }

    private static string FormatSeconds(double seconds) => seconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";

    internal static string Format(HttpLoadReport r)
    {
        var f = CultureInfo.InvariantCulture;
        var output = new StringBuilder();
        if (r.Interrupted)
        {
            output.Append(f, $"  Interrupted by a signal after {r.Seconds:0.00}s: the figures so far\n");
        }
        LatencySummary l = r.LatencyUs;
        string from = r.Rate is null ? "from each write" : "from each request's scheduled time";
        if (r.Requests > 0)
        {
            output.Append(f, $"  Latency ({from}): mean {LatencyPercentiles.Format(l.Mean)}, stdev {LatencyPercentiles.Format(l.StdDev)}, max {LatencyPercentiles.Format(l.Max)}\n");
            output.Append("  Latency Distribution\n");
            LatencyPercentiles.AppendTable(output, r.Percentiles, "  ");
            if (r.UncorrectedLatencyUs is { } u)
            {
                output.Append(f, $"  Uncorrected (from each actual write, as a tool without -R's correction reports): p50 {LatencyPercentiles.Format(u.P50)}, p99 {LatencyPercentiles.Format(u.P99)}, p99.9 {LatencyPercentiles.Format(u.P999)}, max {LatencyPercentiles.Format(u.Max)}\n");
            }
        }
        output.Append(f, $"  {r.Requests:N0} requests in {r.Seconds:0.00}s, {FormatBytes(r.BytesRead)} read\n");
        if (r.StatusCounts.Count > 0)
        {
            output.Append("  Status: ").AppendJoin(", ", r.StatusCounts.Select(s => string.Create(f, $"{s.Key} × {s.Value:N0}"))).Append('\n');
        }
        if (r.Non2xx > 0)
        {
            output.Append(f, $"  Non-2xx responses: {r.Non2xx:N0}\n");
        }
        if (r.Errors > 0)
        {
            output.Append("  Errors: ").AppendJoin(", ", r.ErrorsByKind.Select(e => string.Create(f, $"{e.Key} {e.Value:N0}"))).Append('\n');
            foreach (var (kind, causes) in r.ErrorDetails)
            {
                output.Append(f, $"    {kind}: ").AppendJoin(", ", causes.Select(c => string.Create(f, $"{c.Key} {c.Value:N0}"))).Append('\n');
            }
        }
        if (r.ClosedByServer > 0)
        {
            output.Append(f, $"  Connections closed by the server (reopened): {r.ClosedByServer:N0}\n");
        }
        if (r.ConnectionsOpened > 0)
        {
            LatencySummary c = r.ConnectUs;
            output.Append(f, $"  Connections: {r.ConnectionsOpened:N0} opened ({r.ConnectionsPerSecond:N1}/s); TCP connect p50 {LatencyPercentiles.Format(c.P50)}, p99 {LatencyPercentiles.Format(c.P99)}, mean {LatencyPercentiles.Format(c.Mean)}\n");
        }
        if (r.TlsHandshakeUs is { } h && r.ConnectionsOpened > 0)
        {
            output.Append(f, $"  TLS handshake ({r.TlsVersion}, {r.TlsCipherSuite}): p50 {LatencyPercentiles.Format(h.P50)}, p99 {LatencyPercentiles.Format(h.P99)}, max {LatencyPercentiles.Format(h.Max)}, mean {LatencyPercentiles.Format(h.Mean)}\n");
        }
        output.Append(f, $"Requests/sec: {r.RequestsPerSecond,12:N2}\n");
        output.Append(f, $"Transfer/sec: {FormatBytes(r.BytesPerSecond),12}\n");
        return output.ToString();
    }

    private static string FormatBytes(double bytes) => bytes switch
    {
        < 1024 => bytes.ToString("0", CultureInfo.InvariantCulture) + " B",
        < 1024 * 1024 => (bytes / 1024).ToString("0.00", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (bytes / (1024 * 1024)).ToString("0.00", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / (1024L * 1024 * 1024)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
    };

    private static void WriteHtml(Stream stream, HttpLoadReport r)
    {
        var f = CultureInfo.InvariantCulture;
        var figures = new List<(string, string)>
        {
            ("target", $"{r.Method} {r.Url} ({r.Address})"),
            ("load", string.Create(f, $"{r.Connections:N0} connections on {r.Loops} loops, pipeline {r.Pipeline}") + (r.Rate is { } rate ? string.Create(f, $", constant rate {rate:N0} req/s") : "")),
            ("requests", string.Create(f, $"{r.Requests:N0} in {r.Seconds:0.00} s") + (r.Interrupted ? " (interrupted)" : "")),
            ("requests/s", r.RequestsPerSecond.ToString("N2", f)),
            ("transfer/s", FormatBytes(r.BytesPerSecond)),
        };
        foreach (PercentileValue p in r.Percentiles)
        {
            figures.Add((p.Percentile == 100 ? "latency max" : string.Create(f, $"latency p{p.Percentile:0.###}"), LatencyPercentiles.Format(p.ValueUs)));
        }
        figures.Add(("latency mean", LatencyPercentiles.Format(r.LatencyUs.Mean)));
        figures.Add(("connections", string.Create(f, $"{r.ConnectionsOpened:N0} opened ({r.ConnectionsPerSecond:N1}/s)") + (r.NewConnectionPerRequest ? ", one per request" : "")));
        figures.Add(("TCP connect", string.Create(f, $"p50 {LatencyPercentiles.Format(r.ConnectUs.P50)}, p99 {LatencyPercentiles.Format(r.ConnectUs.P99)}, mean {LatencyPercentiles.Format(r.ConnectUs.Mean)}")));
        if (r.TlsHandshakeUs is { } h)
        {
            figures.Add(("TLS", $"{r.TlsVersion ?? "no handshake succeeded"}{(r.TlsCipherSuite is null ? "" : ", " + r.TlsCipherSuite)}"));
            figures.Add(("TLS handshake", string.Create(f, $"p50 {LatencyPercentiles.Format(h.P50)}, p99 {LatencyPercentiles.Format(h.P99)}, max {LatencyPercentiles.Format(h.Max)}, mean {LatencyPercentiles.Format(h.Mean)}")));
        }
        figures.Add(("status", string.Join(", ", r.StatusCounts.Select(s => string.Create(f, $"{s.Key} × {s.Value:N0}")))));
        figures.Add(("errors", string.Join(", ", r.ErrorsByKind.Select(e => string.Create(f, $"{e.Key} {e.Value:N0}")))));
        foreach (var (kind, causes) in r.ErrorDetails)
        {
            figures.Add(($"  {kind}", string.Join(", ", causes.Select(c => string.Create(f, $"{c.Key} {c.Value:N0}")))));
        }
        var curves = new List<LatencyCurve>
        {
            new(r.Rate is null ? "latency (from each write)" : "latency (from each request's scheduled time)", r.Distribution),
        };
        if (r.UncorrectedDistribution is { } uncorrected)
        {
            curves.Add(new LatencyCurve("uncorrected (from each actual write)", uncorrected, IsDashed: true));
        }
        HtmlReport.Write(stream, $"eddy load http {r.Url}", figures, curves);
    }

    internal static Uri ParseUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps) || url.Host.Length == 0)
        {
            throw new UserError($"'{text}' is not an http:// or https:// URL (e.g. http://127.0.0.1:8080/plaintext)");
        }
        return url;
    }

    private static (string Name, string Value) ParseHeader(string text)
    {
        int colon = text.IndexOf(':');
        string name = colon > 0 ? text[..colon] : "";
        string value = colon > 0 ? text[(colon + 1)..].Trim(' ', '\t') : "";
        if (name.Length == 0 || !name.All(IsTokenChar))
        {
            throw new UserError($"-H '{text}' is not a header: write it as \"Name: value\"");
        }
        if (value.Any(c => c is '\r' or '\n' or '\0' || c > '\xff'))
        {
            throw new UserError($"-H '{name}': the value may not hold line breaks, NUL or characters beyond Latin-1");
        }
        return (name, value);
    }

    /// <summary>tchar (RFC 9110 §5.6.2): what a method or a field name is made of.</summary>
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);
}
