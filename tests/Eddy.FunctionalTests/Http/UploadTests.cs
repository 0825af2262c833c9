using System.Diagnostics;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text.Json;
using Eddy.FunctionalTests.Reliability;
using Xunit.Abstractions;

namespace Eddy.FunctionalTests.Http;

/// <summary>
/// Uploads to <c>eddy serve</c>'s <c>POST /upload</c>, in a process of its own so its memory can be read: the
/// body streams through the handler, so an upload of any size costs the server a bounded amount of memory,
/// and that memory goes back after a burst.
/// </summary>
public class UploadTests(ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public async Task AGibibyteStreamedFromAPipeIsHashedCorrectlyWithTheServersMemoryGrowingByLessThanSixteenMebibytes()
    {
        using ServeProcess serve = await ServeProcess.StartAsync(null, "--loops", "1");
        string url = $"http://{serve.EndPoint}/upload?sha256=1";
        Assert.Contains("\"bytes\":5", await CurlAsync($"-sS -X POST --data-binary hello '{url}'")); // warm the route up
        long before = serve.ResidentKiB();
        ResetPeakResident(serve);

        // curl reads the pipe as it goes and sends it chunked: the size is unknown to both ends.
        var clock = Stopwatch.StartNew();
        string answer = await CurlAsync($"-sS -T - -X POST '{url}'", stdin: "head -c 1073741824 /dev/zero");
        long peak = PeakResidentKiB(serve);

        output.WriteLine($"1 GiB in {clock.Elapsed.TotalSeconds:F1} s; RSS {before} KiB before, peak {peak} KiB during (+{(peak - before) / 1024.0:F1} MiB)");
        using JsonDocument json = JsonDocument.Parse(answer);
        Assert.Equal(1L << 30, json.RootElement.GetProperty("bytes").GetInt64());
        Assert.Equal(Sha256OfZeros(1L << 30), json.RootElement.GetProperty("sha256").GetString());
        Assert.True(peak - before < 16 * 1024, $"the server's RSS grew by {(peak - before) / 1024.0:F1} MiB during a streamed upload");
    }

    [Fact]
    public async Task TenConcurrentUploadsOfTenMebibytesLeaveTheServersMemoryWhereItWas()
    {
        using ServeProcess serve = await ServeProcess.StartAsync(null, "--loops", "1");
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var url = new Uri($"http://{serve.EndPoint}/upload");
        byte[] body = RandomNumberGenerator.GetBytes((int)(10 * MiB));
        await PostAsync(client, url, body[..1000]); // warm up
        long baseline = serve.ResidentKiB();

        for (int burst = 0; burst < 2; burst++)
        {
            long[] sizes = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => PostAsync(client, url, body)));
            Assert.All(sizes, size => Assert.Equal(body.Length, size));
        }
        long after = serve.ResidentKiB();

        output.WriteLine($"RSS {baseline} KiB before, {after} KiB after two bursts of ten 10 MiB uploads (+{(after - baseline) / 1024.0:F1} MiB)");
        Assert.True(after - baseline < 16 * 1024, $"{(after - baseline) / 1024.0:F1} MiB more RSS after the uploads than before");
    }

    private static async Task<long> PostAsync(HttpClient client, Uri url, byte[] body)
    {
        using HttpResponseMessage response = await client.PostAsync(url, new ByteArrayContent(body));
        response.EnsureSuccessStatusCode();
        using JsonDocument json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("bytes").GetInt64();
    }

    /// <summary>proc(5): writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS.</summary>
    private static void ResetPeakResident(ServeProcess serve) => File.WriteAllText($"/proc/{serve.Process.Id}/clear_refs", "5");

    private static long PeakResidentKiB(ServeProcess serve)
    {
        string line = File.ReadLines($"/proc/{serve.Process.Id}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0]);
    }

    private static string Sha256OfZeros(long count)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] zeros = new byte[1 << 20];
        for (long done = 0; done < count; done += zeros.Length)
        {
            sha.AppendData(zeros);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static async Task<string> CurlAsync(string arguments, string? stdin = null)
    {
        string command = (stdin is null ? "" : stdin + " | ") + "curl --max-time 120 " + arguments;
        var start = new ProcessStartInfo("/bin/bash", ["-o", "pipefail", "-c", command]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var curl = Process.Start(start)!;
        Task<string> error = curl.StandardError.ReadToEndAsync();
        string text = await curl.StandardOutput.ReadToEndAsync();
        await curl.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(150));
        Assert.True(curl.ExitCode == 0, $"curl failed ({curl.ExitCode}): {await error}");
        return text;
    }
}
