using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Eddy.Microbenchmarks;

if (args is ["quick", string path, ..] && args.Length <= 3)
{
    int connections = args.Length == 3 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1;
    // A quick, noise-resistant figure for a busy machine: after a tiered-JIT warm-up, the fastest of 1,000 short rounds
    // (other processes only ever add time). The BenchmarkDotNet run below is the careful one.
    var benchmark = new HttpConnectionBenchmarks { Path = path, Connections = connections };
    benchmark.Setup();
    var clock = System.Diagnostics.Stopwatch.StartNew();
    while (clock.Elapsed < TimeSpan.FromSeconds(10))
    {
        benchmark.PipelinedBatch();
    }
    double best = double.MaxValue;
    for (int round = 0; round < 1000; round++)
    {
        const int Batches = 500;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int i = 0; i < Batches; i++)
        {
            benchmark.PipelinedBatch();
        }
        double ns = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalNanoseconds / (Batches * 16.0);
        best = Math.Min(best, ns);
    }
    benchmark.Cleanup();
    Console.WriteLine($"{path}, {connections} connection(s): {best:F1} ns per request (fastest of 1,000 rounds of 8,000 requests)");
    return;
}

// In-process: no generated project to restore and build for each benchmark (this machine has no internet).
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
