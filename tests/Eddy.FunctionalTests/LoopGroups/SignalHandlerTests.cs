using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Eddy.FunctionalTests.Transports;
using Eddy.Loop;

namespace Eddy.FunctionalTests.LoopGroups;

/// <summary>
/// Signal handlers run on the loop (EventLoop.AddSignalHandler), tested with real signals sent to this
/// process. SIGWINCH is the one to use: its default action is to ignore it, so a signal that arrives
/// after the handler is gone harms nothing.
/// </summary>
public class SignalHandlerTests
{
    [Fact]
    public async Task ASignalHandlerRunsOnTheLoopThreadForEachSignalUntilRemoved()
    {
        using var witness = new SignalWitness(PosixSignal.SIGWINCH);
        using var loop = new LoopThread();
        var calls = new ConcurrentQueue<(int Thread, EventLoop? Loop, object? State)>();
        var called = new SemaphoreSlim(0);
        object state = new();
        await loop.Invoke(() => loop.Loop.AddSignalHandler(PosixSignal.SIGWINCH, s =>
        {
            calls.Enqueue((Environment.CurrentManagedThreadId, EventLoop.Current, s));
            called.Release();
        }, state));

        // Signals of one kind coalesce while pending, so send the next only after the previous was handled.
        for (int i = 1; i <= 2; i++)
        {
            await SendSignalToSelfAsync("WINCH");
            Assert.True(await called.WaitAsync(TestTimeouts.Wait), $"signal {i} did not reach the handler");
            Assert.True(await witness.NextAsync(), "the loop's handler did not replace the signal's default action");
        }
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c =>
        {
            Assert.Equal(loop.ThreadId, c.Thread);
            Assert.Same(loop.Loop, c.Loop);
            Assert.Same(state, c.State);
        });

        Assert.True(await loop.Invoke(() => loop.Loop.RemoveSignalHandler(PosixSignal.SIGWINCH)));
        Assert.False(await loop.Invoke(() => loop.Loop.RemoveSignalHandler(PosixSignal.SIGWINCH)));
        await SendSignalToSelfAsync("WINCH");

        // The witness has seen this signal, and a handler still registered would have been called
        // before it (see SignalWitness); a round trip through the loop then runs whatever that handler queued.
        Assert.False(await witness.NextAsync(), "a removed handler still cancelled the signal's default action");
        await loop.SettleAsync();
        Assert.Equal(2, calls.Count);
        loop.AssertNoLoopErrors();
    }

    [Fact]
    public async Task ClosingTheLoopRemovesItsSignalHandlers()
    {
        using var witness = new SignalWitness(PosixSignal.SIGWINCH);
        int calls = 0;
        var loop = new LoopThread();
        await loop.Invoke(() => loop.Loop.AddSignalHandler(PosixSignal.SIGWINCH, _ => Interlocked.Increment(ref calls)));
        loop.Dispose();
        Assert.True(loop.Loop.IsClosed);

        await SendSignalToSelfAsync("WINCH");

        // A registration the closed loop left behind would still be called, and would still cancel the signal's
        // default action: for SIGTERM or SIGINT, the process would no longer stop.
        Assert.False(await witness.NextAsync(), "a closed loop's handler still cancelled the signal's default action");
        Assert.Equal(0, Volatile.Read(ref calls));
    }

    /// <summary>kill(1) rather than a P/Invoke: the test project has no unsafe code, and Interop stays in the library.</summary>
    private static async Task SendSignalToSelfAsync(string signal)
    {
        using Process kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {Environment.ProcessId}") { UseShellExecute = false })!;
        await kill.WaitForExitAsync().WaitAsync(TestTimeouts.Wait);
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>
    /// A registration of the test's own, made before the loop's. .NET 10 calls every registration of a signal, newest
    /// first, one after another on one thread with one context: when the witness is called, any registration the
    /// loop still has has run, and <see cref="PosixSignalContext.Cancel"/> says whether one of them cancelled the
    /// default action. The witness never cancels it itself.
    /// </summary>
    private sealed class SignalWitness : IDisposable
    {
        private readonly PosixSignalRegistration _registration;
        private readonly ConcurrentQueue<bool> _seen = new();
        private readonly SemaphoreSlim _count = new(0);

        public SignalWitness(PosixSignal signal) =>
            _registration = PosixSignalRegistration.Create(signal, context =>
            {
                _seen.Enqueue(context.Cancel);
                _count.Release();
            });

        /// <summary>Waits (bounded) for the next signal and returns whether a later registration had cancelled it.</summary>
        public async Task<bool> NextAsync()
        {
            Assert.True(await _count.WaitAsync(TestTimeouts.Wait), "the signal never reached the witness (the runtime no longer calls every registration?)");
            Assert.True(_seen.TryDequeue(out bool cancelled));
            return cancelled;
        }

        public void Dispose() => _registration.Dispose();
    }
}
