using System.Diagnostics;
using System.Net.Sockets;
using Eddy.FunctionalTests.Http;
using Eddy.FunctionalTests.Transports;

namespace Eddy.FunctionalTests.Reliability;

/// <summary>
/// <c>eddy serve</c> whose descriptor limit another process lowers while it runs (prlimit(1), as an operator or a
/// container runtime might): it must live, serve again once the limit is back, and stop cleanly. Before the
/// run-time reserve (<c>Server.DescriptorReserve</c>), connections took the last descriptors and the runtime aborted
/// ("Out of memory.") the next time it started a thread (RELIABILITY.md).
/// </summary>
public sealed class RunTimeDescriptorLimitTests
{
    private const int Trials = 5;
    private const int Flood = 100;

    [Fact]
    public async Task AServerWhoseLimitIsLoweredToJustAboveWhatItUsesSurvivesAFloodAndServesAgainAfterwards()
    {
        for (int trial = 1; trial <= Trials; trial++)
        {
            using ServeProcess serve = await ServeProcess.StartAsync(null);
            int pid = serve.Process.Id;
            string hard = HardLimit(pid);
            int inUse = Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
            await PrlimitAsync(pid, $"{inUse + 3}:{hard}");

            var clients = new List<Socket>();
            try
            {
                for (int i = 0; i < Flood; i++)
                {
                    var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
                    clients.Add(client);
                    await client.ConnectAsync(serve.EndPoint).WaitAsync(TestTimeouts.Wait);
                }
                // Each is answered or closed (refused to keep the last descriptors free); none may hang, and the
                // first responses make the runtime compile and start what it needs meanwhile.
                foreach (Socket client in clients.Take(10))
                {
                    await AnsweredOrClosedAsync(client);
                }
                Assert.False(serve.Process.HasExited, $"trial {trial}: the server died under the lowered limit: {string.Join(" | ", serve.Stderr)}");
            }
            finally
            {
                clients.ForEach(c => c.Dispose());
            }

            await PrlimitAsync(pid, $"{hard}:{hard}");
            using (var client = new Socket(SocketType.Stream, ProtocolType.Tcp))
            {
                await client.ConnectAsync(serve.EndPoint).WaitAsync(TestTimeouts.Wait);
                Assert.True(await HttpTestServer.PlaintextOnAsync(client, TestTimeouts.Wait), $"trial {trial}: not served once the limit was back");
            }
            serve.Terminate();
            await serve.Process.WaitForExitAsync().WaitAsync(TestTimeouts.Wait);
            Assert.True(serve.Process.ExitCode == 0, $"trial {trial}: exit {serve.Process.ExitCode}: {string.Join(" | ", serve.Stderr)}");
        }
    }

    private static async Task AnsweredOrClosedAsync(Socket client)
    {
        try
        {
            await HttpTestServer.PlaintextOnAsync(client, TestTimeouts.Wait);
        }
        catch (SocketException)
        {
            // Reset: the connection was refused after the request was sent.
        }
    }

    /// <summary>The hard RLIMIT_NOFILE of <paramref name="pid"/> (a number or "unlimited"), from /proc/PID/limits.</summary>
    private static string HardLimit(int pid)
    {
        string line = File.ReadLines($"/proc/{pid}/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        return line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
    }

    /// <summary>Sets <paramref name="pid"/>'s descriptor limit (SOFT:HARD) with prlimit(1) from util-linux.</summary>
    private static async Task PrlimitAsync(int pid, string limits)
    {
        var start = new ProcessStartInfo("prlimit", ["--pid", pid.ToString(), $"--nofile={limits}"]) { RedirectStandardError = true, UseShellExecute = false };
        using Process prlimit = Process.Start(start)!;
        string error = await prlimit.StandardError.ReadToEndAsync();
        await prlimit.WaitForExitAsync().WaitAsync(TestTimeouts.Wait);
        Assert.True(prlimit.ExitCode == 0, $"prlimit --nofile={limits}: {error}");
    }
}
