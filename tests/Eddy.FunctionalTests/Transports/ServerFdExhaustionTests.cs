using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Eddy.FunctionalTests.Reliability;

namespace Eddy.FunctionalTests.Transports;

/// <summary>
/// A server that runs out of file descriptors (accept fails with EMFILE) must neither die nor spin on
/// its still-readable listener (bpo-27906), and must accept again once descriptors free up. Run on the
/// real <c>eddy echo --impl protocol</c> in a child process whose descriptor limit is low.
/// </summary>
public class ServerFdExhaustionTests
{
    // The idle server already holds about 55 descriptors (the runtime keeps its assemblies open), leaving room for ~70 connections.
    private const int DescriptorLimit = 128;
    private const int MaxConnections = 1000;
    private const int ClockTicksPerSecond = 100; // USER_HZ, the unit of utime and stime in /proc/<pid>/stat

    [Fact]
    public async Task AnEchoServerOutOfDescriptorsKeepsServingWithoutSpinningAndAcceptsAgainOnceSomeAreFree()
    {
        using Process child = StartEchoServer(out ConcurrentQueue<string> stderr, out Task emfileReported);
        var clients = new List<Socket>();
        try
        {
            string? banner = await child.StandardOutput.ReadLineAsync().WaitAsync(TestTimeouts.Wait);
            Match match = Regex.Match(banner ?? "", @"listening on (\S+):(\d+), 1 loop\(s\)");
            Assert.True(match.Success, $"unexpected first line '{banner}'; stderr: {string.Join(" | ", stderr)}");
            var endPoint = new IPEndPoint(IPAddress.Parse(match.Groups[1].Value), int.Parse(match.Groups[2].Value));

            // Connect until one connection is no longer served: its accept failed with EMFILE.
            var served = new List<Socket>();
            var pendingEchoes = new List<Task<bool>>();
            while (pendingEchoes.Count == 0)
            {
                Assert.True(clients.Count < MaxConnections, $"{MaxConnections} connections and the server still accepts: is the descriptor limit applied?");
                Socket client = await Client.ConnectAsync(endPoint);
                clients.Add(client);
                Task<bool> echo = Client.EchoesAsync(client, 1, TimeSpan.FromSeconds(20));
                if (await Task.WhenAny(echo, emfileReported) != echo)
                {
                    // The warning may come from the accept right after the one that took the last descriptor: give the echo a moment.
                    await Task.WhenAny(echo, Task.Delay(TimeSpan.FromSeconds(1)));
                }
                if (echo.IsCompleted)
                {
                    Assert.True(await echo, $"connection {clients.Count} was accepted but did not echo");
                    served.Add(client);
                }
                else
                {
                    pendingEchoes.Add(echo);
                }
            }
            Assert.True(served.Count >= 5, $"only {served.Count} connections before the server ran out of descriptors");

            // New connections still complete (the kernel queues them in the backlog) but are not served.
            for (int i = 0; i < 2; i++)
            {
                Socket client = await Client.ConnectAsync(endPoint);
                clients.Add(client);
                pendingEchoes.Add(Client.EchoesAsync(client, 1, TimeSpan.FromSeconds(20)));
            }

            // The connections it has still work.
            foreach (Socket client in served)
            {
                Assert.True(await Client.EchoesAsync(client, 2, TestTimeouts.Wait), "a served connection stopped echoing when descriptors ran out");
            }

            // Saturated, the server must be idle rather than retrying accept in a tight loop.
            long before = ServeProcess.CpuTicks(child);
            await Task.Delay(TimeSpan.FromSeconds(1));
            long spent = ServeProcess.CpuTicks(child) - before;
            Assert.True(spent < ClockTicksPerSecond / 2, $"the saturated server used {spent * 1000 / ClockTicksPerSecond} ms of CPU in one second");
            Assert.All(pendingEchoes, e => Assert.False(e.IsCompleted, "a connection was served while no descriptor was free"));

            // Free most descriptors: the waiting connections and new ones are served within a few seconds.
            foreach (Socket client in served.Take(served.Count - 3))
            {
                client.Dispose();
            }
            using (Socket fresh = await Client.ConnectAsync(endPoint))
            {
                Assert.True(await Client.EchoesAsync(fresh, 3, TimeSpan.FromSeconds(5)), "the server did not accept again after descriptors were freed");
            }
            Assert.All(await Task.WhenAll(pendingEchoes).WaitAsync(TestTimeouts.Wait), Assert.True);
            foreach (Socket client in served.TakeLast(3))
            {
                Assert.True(await Client.EchoesAsync(client, 4, TestTimeouts.Wait));
            }

            Assert.False(child.HasExited, "the server exited");
            Assert.Single(stderr, line => line.Contains("EMFILE"));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            if (!child.HasExited)
            {
                child.Kill();
            }
            child.WaitForExit(10_000);
        }
    }

    private static Process StartEchoServer(out ConcurrentQueue<string> stderr, out Task emfileReported)
    {
        // bash's `ulimit -n` sets the soft and the hard limit, so the .NET runtime cannot raise it again at startup.
        var start = new ProcessStartInfo("/bin/bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"ulimit -n {DescriptorLimit} && exec {ServeProcess.EddyCommand()} echo --impl protocol --loops 1 --port 0");
        var lines = new ConcurrentQueue<string>();
        var emfile = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var child = new Process { StartInfo = start };
        child.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            lines.Enqueue(e.Data);
            if (e.Data.Contains("EMFILE"))
            {
                emfile.TrySetResult();
            }
        };
        child.Start();
        child.BeginErrorReadLine();
        stderr = lines;
        emfileReported = emfile.Task;
        return child;
    }
}
