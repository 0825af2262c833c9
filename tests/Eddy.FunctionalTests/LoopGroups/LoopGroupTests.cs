using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Eddy.FunctionalTests.Children;
using Eddy.FunctionalTests.Transports;
using Eddy.Loop;
using Eddy.Selectors;
using Eddy.Transports;
using Microsoft.Extensions.Logging;

namespace Eddy.FunctionalTests.LoopGroups;

/// <summary>Several loops on their own threads: SO_REUSEPORT servers over all of them, thread affinity, and shutdown.</summary>
public class LoopGroupTests
{
    private const int Connections = 200;

    [Fact]
    public async Task AGroupServerSpreadsConnectionsOverTheLoopsAndRunsEachConnectionOnItsOwnLoop()
    {
        var errors = new ConcurrentQueue<LoopExceptionContext>();
        var group = new LoopGroup(2);
        var protocols = new ConcurrentQueue<AffineEchoProtocol>();
        var clients = new List<Socket>();
        try
        {
            foreach (EventLoop loop in group.Loops)
            {
                loop.ExceptionHandler = (_, context) => errors.Enqueue(context);
            }
            group.Start();
            Assert.True(group.IsRunning);
            var threads = (await group.InvokeOnEachAsync(loop => Task.FromResult((Loop: loop, Thread: Thread.CurrentThread))).WaitAsync(TestTimeouts.Wait))
                .ToDictionary(t => t.Loop, t => t.Thread);
            Assert.Equal(2, threads.Values.Select(t => t.ManagedThreadId).Distinct().Count());

            GroupServer server = await group.CreateServerAsync(() =>
            {
                // The factory runs on the loop that accepted the connection.
                var protocol = new AffineEchoProtocol(EventLoop.Current!, threads);
                protocols.Enqueue(protocol);
                return protocol;
            }, new IPEndPoint(IPAddress.Loopback, 0)).WaitAsync(TestTimeouts.Wait);
            Assert.Equal(2, server.Servers.Count);
            Assert.All(server.Servers, s => Assert.Equal(((IPEndPoint)server.EndPoint).Port, s.Port));

            // Open them all at once: each connect is balanced by the kernel (SO_REUSEPORT hashes the 4-tuple).
            clients.AddRange(await Task.WhenAll(Enumerable.Range(0, Connections).Select(_ => Client.ConnectAsync(server.EndPoint))).WaitAsync(TestTimeouts.Wait));
            bool[] echoed = await Task.WhenAll(clients.Select((c, i) => Client.EchoesAsync(c, (byte)i, TestTimeouts.Wait))).WaitAsync(TestTimeouts.Wait);
            Assert.All(echoed, Assert.True);

            Assert.Equal(Connections, await server.GetConnectionCountAsync().WaitAsync(TestTimeouts.Wait));
            int[] perLoop = await Task.WhenAll(group.Loops.Select((loop, i) => LoopGroup.InvokeAsync(loop, () => server.Servers[i].ConnectionCount))).WaitAsync(TestTimeouts.Wait);
            Assert.Equal(Connections, perLoop.Sum());
            Assert.All(perLoop, count => Assert.True(count > 0, $"one loop got no connection: [{string.Join(", ", perLoop)}]"));
            Assert.Equal(perLoop, group.Loops.Select(loop => protocols.Count(p => p.Loop == loop)));

            // Closing the clients: ConnectionLost runs on each connection's loop too.
            clients.ForEach(c => c.Dispose());
            Exception?[] lost = await Task.WhenAll(protocols.Select(p => p.Lost.Task)).WaitAsync(TestTimeouts.Wait);
            Assert.All(lost, Assert.Null);
            Assert.Equal(0, await server.GetConnectionCountAsync().WaitAsync(TestTimeouts.Wait));
            Assert.All(protocols, p => Assert.Empty(p.Violations));
            Assert.All(protocols, p => Assert.Equal(["made", "data", "eof", "lost"], p.Events.Distinct()));

            await server.CloseAsync().WaitAsync(TestTimeouts.Wait);
            await server.WaitClosedAsync().WaitAsync(TestTimeouts.Wait);

            // Stop joins the loop threads.
            await Task.Run(group.Dispose).WaitAsync(TestTimeouts.Wait);
            Assert.All(threads.Values, t => Assert.False(t.IsAlive, $"{t.Name} still runs after Dispose"));
            Assert.False(group.IsRunning);
            Assert.All(group.Loops, loop => Assert.True(loop.IsClosed));
            Assert.Empty(errors);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
            await Task.Run(group.Dispose).WaitAsync(TestTimeouts.Wait);
        }
    }

    [Fact]
    public async Task StopCalledOnALoopThreadThrowsInsteadOfWaitingForItself()
    {
        using var group = new LoopGroup(2);
        group.Start();
        // Were Stop to join its own thread, this would never complete.
        Exception? thrown = await LoopGroup.InvokeAsync(group.Loops[1], () =>
        {
            try
            {
                group.Stop();
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }).WaitAsync(TestTimeouts.Wait);

        Assert.IsType<InvalidOperationException>(thrown);
        Assert.True(group.IsRunning);
        Assert.Equal(2, (await group.InvokeOnEachAsync(_ => Task.FromResult(true)).WaitAsync(TestTimeouts.Wait)).Length);
    }

    [Fact]
    public async Task ALoopWhoseMachineryFailsTakesTheProcessDownWithTheException()
    {
        // In a child process: the failure must end the process (FailFast), so a supervisor restarts it, instead of
        // leaving a process whose loop thread is gone while its listening sockets still queue connections.
        using var child = ChildProcess.Start("loop-machinery-fails");
        int exitCode = await child.ExitCodeAsync(TimeSpan.FromSeconds(30));

        string output = child.AllOutput;
        Assert.True(output.Contains("loops started", StringComparison.Ordinal), output);
        Assert.NotEqual(ChildProgram.Survived, exitCode);
        Assert.NotEqual(0, exitCode);
        Assert.True(output.Contains("event loop 'child-loop-0' (loop 0 of 2) failed in its own machinery", StringComparison.Ordinal), output);
        Assert.True(output.Contains("InvalidOperationException: the test's selector failed", StringComparison.Ordinal), output);
    }

    [Fact]
    public async Task ALoggerThatThrowsDoesNotStopTheLoop()
    {
        // The default exception handler is the last resort: when even it fails, the report is lost, not the loop.
        var group = new LoopGroup(1, _ => new EventLoopOptions { Logger = new ThrowingLogger() });
        group.Start();
        try
        {
            EventLoop loop = group.Loops[0];
            loop.CallSoonThreadSafe(() => throw new InvalidOperationException("user code fails"));
            bool ran = await LoopGroup.InvokeAsync(loop, () => true).WaitAsync(TestTimeouts.Wait);

            Assert.True(ran);
            Assert.True(loop.IsRunning);
        }
        finally
        {
            group.Dispose();
        }
    }

    /// <summary>An echo that checks every callback runs on the loop that accepted the connection, on that loop's thread.</summary>
    private sealed class AffineEchoProtocol(EventLoop loop, IReadOnlyDictionary<EventLoop, Thread> threads) : RecordingProtocol
    {
        private readonly List<string> _affinityViolations = [];

        public EventLoop Loop => loop;

        public new string[] Violations
        {
            get
            {
                lock (_affinityViolations)
                {
                    return [.. base.Violations, .. _affinityViolations];
                }
            }
        }

        protected override void OnConnectionMade(Transport transport) => Check("ConnectionMade");

        protected override void OnDataReceived(ReadOnlySpan<byte> data)
        {
            Check("DataReceived");
            Transport.Write(data);
        }

        protected override bool OnEofReceived()
        {
            Check("EofReceived");
            return false;
        }

        protected override void OnConnectionLost(Exception? error) => Check("ConnectionLost");

        private void Check(string callback)
        {
            if (EventLoop.Current != loop || Environment.CurrentManagedThreadId != threads[loop].ManagedThreadId)
            {
                lock (_affinityViolations)
                {
                    _affinityViolations.Add($"{callback} ran on thread {Environment.CurrentManagedThreadId} ({EventLoop.Current?.Name ?? "no loop"}), not on {loop.Name}");
                }
            }
        }
    }

    private sealed class ThrowingLogger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            throw new InvalidOperationException("logger failed");
    }
}
