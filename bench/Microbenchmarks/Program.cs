using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Eddy.Microbenchmarks;

if (args is ["quick", "parse", string head])
{
    // The parser alone on one head ("wrk" or "browser"), timed as below.
    var parser = new HttpParserBenchmarks { Head = head };
    parser.Setup();
    Console.WriteLine($"parse {head}: {Quick(() => parser.ParseHead(), 1):F1} ns per head (fastest of 1,000 rounds)");
    return;
}
if (args is ["quick", "streams"])
{
    // AsyncStreamReader's reads, waiting (and one buffered), each timed as below.
    var streams = new StreamReaderBenchmarks();
    streams.Setup();
    foreach ((string name, Func<int> read) in new (string, Func<int>)[]
    {
        ("Read", streams.Read), ("ReadExactly", streams.ReadExactly), ("ReadUntil", streams.ReadUntil),
        ("ReadLine", streams.ReadLine), ("Buffered", streams.Buffered),
    })
    {
        Console.WriteLine($"streams {name}: {Quick(read, StreamReaderBenchmarks.Reads):F1} ns per read (fastest of 1,000 rounds)");
    }
    streams.Cleanup();
    return;
}
if (args is ["quick", "metrics", string mode])
{
    // A request's metrics measurement with no listener, prometheus-net's adapter, or eddy serve --metrics' path.
    MetricsCost.Listen(mode);
    Console.WriteLine($"metrics {mode}: {Quick(MetricsCost.Request, 1):F1} ns per request (fastest of 1,000 rounds)");
    return;
}
if (args is ["quick", string path, ..] && args.Length <= 3)
{
    int connections = args.Length == 3 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1;
    var benchmark = new HttpConnectionBenchmarks { Path = path, Connections = connections };
    benchmark.Setup();
    double ns = Quick(() => benchmark.PipelinedBatch(), 16);
    benchmark.Cleanup();
    Console.WriteLine($"{path}, {connections} connection(s): {ns:F1} ns per request (fastest of 1,000 rounds of 8,000 requests)");
    return;
}
// In-process: no generated project to restore and build for each benchmark (this machine has no internet).
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(HttpParserBenchmarks).Assembly).Run(args, config);

// A quick, noise-resistant figure for a busy machine: after a 10 s tiered-JIT warm-up, the fastest of 1,000 rounds
// of 500 calls (other processes only ever add time), per operation. The BenchmarkDotNet run is the careful one.
static double Quick(Func<int> call, int operationsPerCall)
{
    var clock = System.Diagnostics.Stopwatch.StartNew();
    while (clock.Elapsed < TimeSpan.FromSeconds(10))
    {
        call();
    }
    double best = double.MaxValue;
    for (int round = 0; round < 1000; round++)
    {
        const int Calls = 500;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int i = 0; i < Calls; i++)
        {
            call();
        }
        best = Math.Min(best, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalNanoseconds / (Calls * (double)operationsPerCall));
    }
    return best;
}
