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

    // How long a connection waiting in the backlog keeps waiting for its echo: past the whole test, which bounds its own waits.
    private static readonly TimeSpan PendingEchoTimeout = TimeSpan.FromSeconds(60);

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

            // Connect until the server reports EMFILE; later connections complete (the kernel queues them in the
            // backlog) but are not served while no descriptor is free.
            (List<Socket> served, Task<bool> undecided) = await DescriptorExhaustion.ConnectUntilExhaustedAsync(
                endPoint, emfileReported, client => Client.EchoesAsync(client, 1, PendingEchoTimeout), clients, MaxConnections);
            Assert.True(served.Count >= 5, $"only {served.Count} connections before the server ran out of descriptors");
            var waiting = new List<Task<bool>>();
            for (int i = 0; i < 2; i++)
            {
                Socket client = await Client.ConnectAsync(endPoint);
                clients.Add(client);
                waiting.Add(Client.EchoesAsync(client, 1, PendingEchoTimeout));
            }

            // The connections it has still work.
            foreach (Socket client in served)
            {
                Assert.True(await Client.EchoesAsync(client, 2, TestTimeouts.Wait), "a served connection stopped echoing when descriptors ran out");
            }

            // Saturated, the server must be idle rather than retrying accept in a tight loop.
            // Measured as time runnable, not CPU time, so that a loaded machine cannot hide a spin (see RunnableDuringAsync).
            TimeSpan runnable = await ServeProcess.RunnableDuringAsync(child, TimeSpan.FromSeconds(1));
            Assert.True(runnable < TimeSpan.FromMilliseconds(300), $"the saturated server was runnable {runnable.TotalMilliseconds:F0} ms of one second");
            Assert.All(waiting, e => Assert.False(e.IsCompleted, "a connection was served while no descriptor was free"));

            // Free most descriptors: the waiting connections and new ones are served (accepts are retried every 100 ms).
            foreach (Socket client in served.Take(served.Count - 3))
            {
                client.Dispose();
            }
            using (Socket fresh = await Client.ConnectAsync(endPoint))
            {
                Assert.True(await Client.EchoesAsync(fresh, 3, TestTimeouts.Wait), "the server did not accept again after descriptors were freed");
            }
            Assert.All(await Task.WhenAll([undecided, .. waiting]).WaitAsync(TestTimeouts.Wait), Assert.True);
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
