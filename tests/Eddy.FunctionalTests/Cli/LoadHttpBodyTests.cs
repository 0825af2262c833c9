using System.Globalization;
using System.Security.Cryptography;
using Eddy.Cli.Load.Http;

namespace Eddy.FunctionalTests.Cli;

/// <summary>
/// <c>eddy load http --body @FILE</c>: every request carries exactly the file's bytes, whether the body is
/// formatted into the request (a small file) or streamed from the mapped file (a large one), over several
/// connections and pipelined; <see cref="RawHttpServer"/> hashes each body it receives.
/// </summary>
public class LoadHttpBodyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData(3 * 1024 * 1024, 4, 1, 16)]                    // streamed, larger than any write buffer
    [InlineData(3 * 1024 * 1024, 3, 4, 24)]                    // streamed, 4 pipelined per connection
    [InlineData(LoadRequestBody.StreamAbove + 1, 2, 16, 96)]   // the smallest streamed body, deeply pipelined
    [InlineData(LoadRequestBody.StreamAbove, 2, 4, 40)]        // the largest formatted into the request
    [InlineData(1000, 2, 8, 64)]                               // small, pipelined
    public async Task TheServerReceivesExactlyTheFilesBytesForEveryRequest(int size, int connections, int pipeline, int requests)
    {
        string path = Path.Combine(Path.GetTempPath(), $"eddy-body-{Guid.NewGuid():N}.bin");
        try
        {
            byte[] content = new byte[size];
            new Random(size).NextBytes(content);
            await File.WriteAllBytesAsync(path, content);
            string sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
            using var server = new RawHttpServer { RecordBodies = true };

            var (result, root) = await EddyCli.RunLoadHttpAsync(Timeout, server.Url("/upload"),
                "-n", Text(requests), "-c", Text(connections), "--pipeline", Text(pipeline), "-m", "POST", "--body", "@" + path);

            Assert.Equal(0, result.ExitCode);
            Assert.Equal(0, root.GetProperty("errors").GetInt64());
            Assert.Equal(requests, root.GetProperty("requests").GetInt64());
            Assert.Equal(requests, server.Requests);
            Assert.Equal(requests, server.Bodies.Count);
            Assert.All(server.Bodies, body => Assert.Equal(new ReceivedBody(size, sha256), body));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// An upload that keeps moving is not late, however long it takes: the timeout of a request with a streamed body
    /// counts from the last time the socket took part of it. Here the server reads at most 64 KiB per millisecond, so
    /// a 64 MiB body takes over 1 s to send, against a timeout of 800 ms; what the kernel's buffers hold when the
    /// last of it is written (a few MiB) drains well within that.
    /// </summary>
    [Fact]
    public async Task AStreamedBodyThatTakesLongerThanTheTimeoutIsNotATimeout()
    {
        const long size = 64L * 1024 * 1024;
        string path = Path.Combine(Path.GetTempPath(), $"eddy-body-{Guid.NewGuid():N}.bin");
        try
        {
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            {
                file.SetLength(size); // a hole: nothing written to the disk
            }
            using var server = new RawHttpServer { RecordBodies = true, ReadPause = TimeSpan.FromMilliseconds(1) };

            var (result, root) = await EddyCli.RunLoadHttpAsync(Timeout, server.Url("/upload"),
                "-n", "1", "--timeout", "800ms", "-m", "POST", "--body", "@" + path);

            Assert.Equal(0, result.ExitCode);
            Assert.Equal(0, root.GetProperty("errors").GetInt64());
            Assert.Equal(1, root.GetProperty("requests").GetInt64());
            Assert.Equal([size], server.Bodies.Select(b => b.Length));
            double tookMs = root.GetProperty("latencyUs").GetProperty("max").GetDouble() / 1000;
            Assert.True(tookMs > 800, $"the upload took {tookMs} ms, within the timeout: the test shows nothing");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// A body far larger than the load generator's memory budget is never held in the managed heap: the process
/// allocates a small fraction of the file's size over the whole run, from reading <c>--body</c> to the last
/// response. Serial, so that the process-wide count of allocated bytes is this test's alone.
/// </summary>
[Collection(SerialCollection.Name)]
public class LoadHttpLargeBodyMemoryTests
{
    private const long FileSize = 256L * 1024 * 1024;

    [Fact]
    public async Task AStreamedBodyIsNotHeldInMemory()
    {
        string path = Path.Combine(Path.GetTempPath(), $"eddy-body-{Guid.NewGuid():N}.bin");
        try
        {
            string sha256 = CreateSparseFile(path);
            using var server = new RawHttpServer { RecordBodies = true };
            Uri url = new(server.Url("/upload"));
            GC.Collect();
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

            HttpLoadResult result;
            using (LoadRequestBody body = LoadRequestBody.Read("@" + path))
            {
                Assert.NotNull(body.Streamed);
                var settings = new HttpLoadSettings(
                    url, server.EndPoint, Connections: 2, Loops: 1, Pipeline: 1, Duration: null, Requests: 3, Rate: null,
                    Timeout: TimeSpan.FromSeconds(30), Method: "POST", Request: HttpRequestBuilder.BuildHead(url, "POST", [], body.Length),
                    Body: body.Streamed);
                using var load = new HttpLoad(settings);
                result = await Task.Factory.StartNew(load.Run, TaskCreationOptions.LongRunning).WaitAsync(TimeSpan.FromSeconds(120));
            }
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

            Assert.Empty(result.InternalErrors);
            Assert.Equal(3, result.Responses); // one connection sent two, one after the other
            Assert.Equal(0, result.ErrorsByKind.Sum());
            Assert.Equal(Enumerable.Repeat(new ReceivedBody(FileSize, sha256), 3), server.Bodies);
            Assert.True(allocated < FileSize / 16, $"{allocated:N0} bytes allocated while sending a {FileSize:N0}-byte file three times");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A file of <see cref="FileSize"/> bytes, mostly a hole, with a few marked pages (so the hash checks the offsets); returns its SHA-256.</summary>
    private static string CreateSparseFile(string path)
    {
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            file.SetLength(FileSize);
            foreach (long offset in new[] { 0, HttpLoadConnection.BodyChunk - 3, FileSize / 3, FileSize / 2 + 12345, FileSize - 100 })
            {
                file.Position = offset;
                file.Write(System.Text.Encoding.ASCII.GetBytes($"offset {offset}"));
            }
        }
        using var read = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(read));
    }
}

/// <summary>Tests that must not share the process with other running tests (they count the whole process's allocations); xUnit runs this collection alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial (process-wide state)";
}
