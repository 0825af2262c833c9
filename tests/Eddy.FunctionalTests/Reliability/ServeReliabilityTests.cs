using System.Diagnostics;
using System.Net.Sockets;
using Eddy.FunctionalTests.Http;
using Eddy.FunctionalTests.Transports;
using Eddy.Interop;
using Xunit.Abstractions;

namespace Eddy.FunctionalTests.Reliability;

/// <summary>
/// The guarantees that need a process of their own: <c>eddy serve</c> started as a user would, stopped with
/// SIGTERM, starved of descriptors, and measured for memory per idle connection.
/// </summary>
public class ServeReliabilityTests(ITestOutputHelper output)
{
    // How long a connection waiting in the backlog keeps waiting for its answer: past the whole test, which bounds its own waits.
    private static readonly TimeSpan PendingAnswerTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SigtermWithAnIdleKeepAliveConnectionOpenExitsZeroAtOnce()
    {
        using ServeProcess serve = await ServeProcess.StartAsync(null, "--loops", "2");
        using Socket idle = await Client.ConnectAsync(serve.EndPoint);
        Assert.True(await HttpTestServer.PlaintextOnAsync(idle, TestTimeouts.Wait));

        var clock = Stopwatch.StartNew();
        serve.Terminate();
        Assert.Equal("", await HttpTestServer.ReadUntilClosedAsync(idle, TestTimeouts.Wait));
        await serve.Process.WaitForExitAsync().WaitAsync(TestTimeouts.Wait);

        output.WriteLine($"exited {serve.Process.ExitCode} {clock.ElapsedMilliseconds} ms after SIGTERM");
        Assert.Equal(0, serve.Process.ExitCode);
        // The drain timeout is 30 s: an idle connection must not hold the exit (before, it held it 5 s).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"exit took {clock.Elapsed} with one idle connection");
        Assert.Contains(serve.Stdout, l => l.Contains("stopped"));
    }

    [Fact]
    public async Task TenThousandKeepAliveConnectionsAreHeldAndServedAtAtMostFourKiBOfMemoryEachWhenIdle()
    {
        const int Warmup = 500;
        const int Connections = 9500; // 10,000 held in all; the runtime raised this process's descriptor limit to the hard one
        ulong descriptors = DescriptorLimit.RaiseToHardLimit(); // the child inherits it
        Assert.True(descriptors > 12_000, $"this test needs 10,000 connections on each side, and the descriptor limit is {descriptors} (raise ulimit -Hn)");
        using ServeProcess serve = await ServeProcess.StartAsync(null, "--loops", "1");
        var sockets = new List<Socket>();
        try
        {
            // Warm up: JIT, pools and the loop's tables grow once; then measure what idle connections add. Each
            // measurement follows the server's last answer: whatever the connections cost is allocated by then.
            await OpenIdleConnectionsAsync(serve, sockets, Warmup);
            long before = serve.ResidentKiB();
            await OpenIdleConnectionsAsync(serve, sockets, Connections);
            long after = serve.ResidentKiB();

            double perConnection = (after - before) * 1024.0 / Connections;
            output.WriteLine($"RSS {before} KiB with {Warmup} idle connections, {after} KiB with {Warmup + Connections}: {perConnection:F0} bytes per idle keep-alive connection");
            Assert.True(perConnection <= 4096, $"{perConnection:F0} bytes of RSS per idle keep-alive connection");
            // Every one of the 10,000 is served again.
            for (int i = 0; i < sockets.Count; i += 500)
            {
                bool[] served = await Task.WhenAll(sockets.Skip(i).Take(500).Select(s => HttpTestServer.PlaintextOnAsync(s, TestTimeouts.Wait)));
                Assert.All(served, Assert.True);
            }
            Assert.Equal(Warmup + Connections, sockets.Count);
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task MaxConnectionsIsOneLimitOverAllLoops()
    {
        const int Limit = 4;
        using ServeProcess serve = await ServeProcess.StartAsync(null, "--loops", "2", "--max-connections", Limit.ToString());
        var held = new List<Socket>();
        try
        {
            for (int i = 0; i < Limit; i++)
            {
                held.Add(await Client.ConnectAsync(serve.EndPoint));
                Assert.True(await HttpTestServer.PlaintextOnAsync(held[^1], TestTimeouts.Wait), $"connection {i + 1} of {Limit} was not served");
            }

            // SO_REUSEPORT spreads these over both loops; a limit per loop would let some through.
            for (int i = 0; i < 2 * Limit; i++)
            {
                using Socket refused = await Client.ConnectAsync(serve.EndPoint);
                Assert.Equal("", await HttpTestServer.ReadUntilClosedAsync(refused, TestTimeouts.Wait));
            }

            // Once the server has seen a close, a slot is free again.
            held[0].Dispose();
            var clock = Stopwatch.StartNew();
            while (true)
            {
                using Socket again = await Client.ConnectAsync(serve.EndPoint);
                if (await HttpTestServer.PlaintextOnAsync(again, TestTimeouts.Wait))
                {
                    break;
                }
                Assert.True(clock.Elapsed < TestTimeouts.Wait, "connections are still refused after a slot freed");
                await Task.Delay(100);
            }
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task OutOfDescriptorsTheServerKeepsServingItsConnectionsWithoutSpinningAndAcceptsAgainOnceSomeAreFree()
    {
        // --fd-reserve 0: no default connection limit, so connections do run the server out of descriptors.
        using ServeProcess serve = await ServeProcess.StartAsync(128, "--loops", "1", "--fd-reserve", "0");
        var opened = new List<Socket>();
        try
        {
            // Connect until the server reports EMFILE; later connections complete (the kernel queues them in the
            // backlog) but are not answered while no descriptor is free.
            (List<Socket> served, Task<bool> undecided) = await DescriptorExhaustion.ConnectUntilExhaustedAsync(
                serve.EndPoint, serve.StderrLineContaining("EMFILE"), client => HttpTestServer.PlaintextOnAsync(client, PendingAnswerTimeout), opened);
            Assert.True(served.Count >= 5, $"only {served.Count} connections before the server ran out of descriptors");
            var unanswered = new List<Task<bool>>();
            for (int i = 0; i < 2; i++)
            {
                Socket client = await Client.ConnectAsync(serve.EndPoint);
                opened.Add(client);
                unanswered.Add(HttpTestServer.PlaintextOnAsync(client, PendingAnswerTimeout));
            }

            // The connections it has are still served.
            foreach (Socket client in served)
            {
                Assert.True(await HttpTestServer.PlaintextOnAsync(client, TestTimeouts.Wait), "a connection stopped being served when descriptors ran out");
            }

            // Saturated, the server must be idle rather than retrying accept in a tight loop (Kestrel spins a core here).
            // Measured as time runnable, not CPU time, so that a loaded machine cannot hide a spin (see RunnableDuringAsync).
            TimeSpan runnable = await ServeProcess.RunnableDuringAsync(serve.Process, TimeSpan.FromSeconds(1));
            output.WriteLine($"{served.Count} connections served before EMFILE; runnable while saturated: {runnable.TotalMilliseconds:F0} ms in 1 s");
            Assert.True(runnable < TimeSpan.FromMilliseconds(300), $"the saturated server was runnable {runnable.TotalMilliseconds:F0} ms of one second");
            Assert.All(unanswered, a => Assert.False(a.IsCompleted, "a connection was served while no descriptor was free"));

            // Free descriptors: the waiting connections and new ones are served.
            foreach (Socket client in served.Take(served.Count - 3))
            {
                client.Dispose();
            }
            using (Socket fresh = await Client.ConnectAsync(serve.EndPoint))
            {
                Assert.True(await HttpTestServer.PlaintextOnAsync(fresh, TestTimeouts.Wait), "the server did not accept again after descriptors were freed");
            }
            Assert.All(await Task.WhenAll([undecided, .. unanswered]).WaitAsync(TestTimeouts.Wait), Assert.True);
            foreach (Socket client in served.TakeLast(3))
            {
                Assert.True(await HttpTestServer.PlaintextOnAsync(client, TestTimeouts.Wait));
            }
            Assert.False(serve.Process.HasExited, "the server exited");
        }
        finally
        {
            opened.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task ByDefaultAFloodIsRefusedBeforeTheLastDescriptorsSoTheProcessSurvives()
    {
        // 300 descriptors: those open at start (~60) and a reserve of 128 stay free for the runtime, so the
        // connection past the default limit is refused rather than taking a descriptor a runtime thread or a
        // lazily loaded assembly needs (at true EMFILE the .NET runtime may abort the process).
        using ServeProcess serve = await ServeProcess.StartAsync(300, "--loops", "1");
        string banner = serve.Stdout.First(line => line.Contains("connection limit"));
        int limit = int.Parse(System.Text.RegularExpressions.Regex.Match(banner, @"connection limit (\d+)").Groups[1].Value);
        Assert.InRange(limit, 50, 300 - 128);
        using (var client = new HttpClient())
        {
            // Every route first: each loads code (and its assemblies' descriptors) that a flood must not starve.
            foreach (string path in new[] { "/", "/plaintext", "/json", "/anything/x?y=1", "/static/style.css", "/missing" })
            {
                using HttpResponseMessage response = await client.GetAsync($"http://{serve.EndPoint}{path}");
            }
        }
        var held = new List<Socket>();
        try
        {
            while (true)
            {
                Assert.True(held.Count <= limit, "more connections served than the default limit");
                Socket client = await Client.ConnectAsync(serve.EndPoint);
                if (!await HttpTestServer.PlaintextOnAsync(client, TestTimeouts.Wait))
                {
                    Assert.Equal("", await HttpTestServer.ReadUntilClosedAsync(client, TestTimeouts.Wait)); // refused: closed at once
                    client.Dispose();
                    break;
                }
                held.Add(client);
            }
            Assert.Equal(limit, held.Count);
            for (int i = 0; i < 50; i++)
            {
                using Socket refused = await Client.ConnectAsync(serve.EndPoint);
                Assert.Equal("", await HttpTestServer.ReadUntilClosedAsync(refused, TestTimeouts.Wait));
            }
            foreach (Socket client in held)
            {
                Assert.True(await HttpTestServer.PlaintextOnAsync(client, TestTimeouts.Wait), "a held connection stopped being served");
            }
            Assert.DoesNotContain(serve.Stderr, l => l.Contains("EMFILE"));
            Assert.False(serve.Process.HasExited, "the server exited");
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    /// <summary>Opens <paramref name="count"/> connections and has each make one keep-alive request, 100 at a time.</summary>
    private static async Task OpenIdleConnectionsAsync(ServeProcess serve, List<Socket> sockets, int count)
    {
        for (int done = 0; done < count; done += 100)
        {
            Socket[] batch = await Task.WhenAll(Enumerable.Range(0, Math.Min(100, count - done)).Select(_ => Client.ConnectAsync(serve.EndPoint)));
            sockets.AddRange(batch);
            bool[] served = await Task.WhenAll(batch.Select(s => HttpTestServer.PlaintextOnAsync(s, TestTimeouts.Wait)));
            Assert.All(served, Assert.True);
        }
    }
}
