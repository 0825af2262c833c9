using Eddy.Cli.Load.Http;
using Eddy.Cli.Serve;
using Eddy.FunctionalTests.Http;
using Eddy.Loop;

namespace Eddy.FunctionalTests.Cli;

/// <summary>The load generator's loop thread allocates nothing per request in steady state, in each mode.</summary>
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
        await AssertNothingAllocatedPerRequestAsync(settings, minResponses: 1000);
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
            await AssertNothingAllocatedPerRequestAsync(settings, minResponses: 100);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task AssertNothingAllocatedPerRequestAsync(HttpLoadSettings settings, int minResponses)
    {
        using var load = new HttpLoad(settings);
        Task<HttpLoadResult> run = Task.Factory.StartNew(load.Run, TaskCreationOptions.LongRunning);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5)); // warm up: JIT tiers, timer and buffer pools
            var (bytesBefore, responsesBefore) = await MeasureAsync(load);
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            var (bytesAfter, responsesAfter) = await MeasureAsync(load);

            long responses = responsesAfter - responsesBefore;
            Assert.True(responses > minResponses, $"only {responses} responses in 1.5 s");
            double perRequest = (bytesAfter - bytesBefore) / (double)responses;
            Assert.True(perRequest < 1, $"{perRequest:F2} bytes allocated per request on the load loop ({bytesAfter - bytesBefore} over {responses})");
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
