using System.Globalization;
using System.Security.Cryptography;

namespace Eddy.FunctionalTests.Cli;

/// <summary>
/// <c>eddy load http --body @FILE</c>: every request carries exactly the file's bytes, over several connections
/// and pipelined; <see cref="RawHttpServer"/> hashes each body it receives.
/// </summary>
public class LoadHttpBodyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData(64 * 1024, 2, 4, 40)]
    [InlineData(1000, 2, 8, 64)] // pipelined
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

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
