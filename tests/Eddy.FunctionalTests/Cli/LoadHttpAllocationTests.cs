using Eddy.Cli.Load.Http;
using Eddy.Cli.Serve;
using Eddy.FunctionalTests.Http;
using Eddy.FunctionalTests.Transports;
using Eddy.Loop;

namespace Eddy.FunctionalTests.Cli;

/// <summary>The load generator's loop thread allocates nothing per request in steady state, in each mode.</summary>
[Collection(SerialCollection.Name)] // counts a loop thread's allocations: with the process to itself
public class LoadHttpAllocationTests
{
    [Theory]
    [InlineData(false, 1)] // as fast as the server answers
    [InlineData(false, 8)] // pipelined
    [InlineData(true, 1)]  // constant rate (-R): the pacing timer on top
    public async Task SteadyStateRequestsAllocateNothingOnTheLoadLoop(bool isPaced, int pipeline)
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        Uri url = server.Url("/plaintext");
        var settings = new HttpLoadSettings(
            url, server.EndPoint, Connections: 4, Loops: 1, Pipeline: pipeline, Duration: TimeSpan.FromSeconds(20),
            Requests: null, Rate: isPaced ? 5_000 : null, Timeout: TimeSpan.FromSeconds(5), Method: "GET",
            Request: HttpRequestBuilder.Build(url, "GET", [], []));
        await AssertNothingAllocatedPerRequestAsync(settings, measuredResponses: 5000);
    }

    /// <summary>A streamed body (a mapped file, written a chunk at a time with the transport pausing and resuming us) too.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task SteadyStateStreamedBodiesAllocateNothingOnTheLoadLoop(int pipeline)
    {
        string path = Path.Combine(Path.GetTempPath(), $"eddy-body-{Guid.NewGuid():N}.bin");
        try
        {
            await File.WriteAllBytesAsync(path, new byte[256 * 1024]);
            using LoadRequestBody body = LoadRequestBody.Read("@" + path);
            using var server = new RawHttpServer();
            Uri url = new(server.Url("/upload"));
            var settings = new HttpLoadSettings(
                url, server.EndPoint, Connections: 4, Loops: 1, Pipeline: pipeline, Duration: TimeSpan.FromSeconds(20),
                Requests: null, Rate: null, Timeout: TimeSpan.FromSeconds(5), Method: "POST",
                Request: HttpRequestBuilder.BuildHead(url, "POST", [], body.Length), Body: body.Streamed!);
            await AssertNothingAllocatedPerRequestAsync(settings, measuredResponses: 500); // 256 KiB each
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task AssertNothingAllocatedPerRequestAsync(HttpLoadSettings settings, int measuredResponses)
    {
        using var load = new HttpLoad(settings);
        Task<HttpLoadResult> run = Task.Factory.StartNew(load.Run, TaskCreationOptions.LongRunning);
        try
        {
            // Warm up: a time, not a count, since the runtime promotes hot code to its optimized tier on a timer;
            // timer and buffer pools fill meanwhile.
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            // Two windows: a pool or queue that grows once more on a loaded machine (the pacing timers' heap when the
            // loop falls behind) shows in one window, an allocation per request in both.
            var windows = new List<string>();
            for (int window = 0; window < 2; window++)
            {
                var (bytesBefore, responsesBefore) = await MeasureAsync(load);
                // Measure over a number of responses, however long a loaded machine takes to get them. The count is
                // read from this thread (Progress is readable from any): a call on the load loop would allocate there.
                await TestData.WaitUntilAsync(() => Task.FromResult(load.Progress.Responses >= responsesBefore + measuredResponses), $"{measuredResponses} more responses");
                var (bytesAfter, responsesAfter) = await MeasureAsync(load);
                long responses = responsesAfter - responsesBefore;
                double perRequest = (bytesAfter - bytesBefore) / (double)responses;
                if (perRequest < 1)
                {
                    return;
                }
                windows.Add($"{perRequest:F2} ({bytesAfter - bytesBefore} over {responses})");
            }
            Assert.Fail($"bytes allocated per request on the load loop, in each window: {string.Join(", ", windows)}");
        }
        finally
        {
            load.Interrupt();
            HttpLoadResult result = await run.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Empty(result.InternalErrors);
        }
    }

    /// <summary>On the load loop's thread: what it has allocated so far, and the responses it has counted.</summary>
    private static Task<(long Bytes, long Responses)> MeasureAsync(HttpLoad load) =>
        LoopGroup.InvokeAsync(load.Loops[0], () => (GC.GetAllocatedBytesForCurrentThread(), load.Progress.Responses));
}
