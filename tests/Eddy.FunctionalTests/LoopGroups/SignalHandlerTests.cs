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
        Assert.False(await called.WaitAsync(TestTimeouts.Quiet), "the handler ran after it was removed");
        await loop.SettleAsync();
        Assert.Equal(2, calls.Count);
        loop.AssertNoLoopErrors();
    }

    [Fact]
    public async Task ClosingTheLoopRemovesItsSignalHandlers()
    {
        int calls = 0;
        var loop = new LoopThread();
        await loop.Invoke(() => loop.Loop.AddSignalHandler(PosixSignal.SIGWINCH, _ => Interlocked.Increment(ref calls)));
        loop.Dispose();
        Assert.True(loop.Loop.IsClosed);

        await SendSignalToSelfAsync("WINCH");
        await Task.Delay(TestTimeouts.Quiet);
        Assert.Equal(0, Volatile.Read(ref calls));
    }

    /// <summary>kill(1) rather than a P/Invoke: the test project has no unsafe code, and Interop stays in the library.</summary>
    private static async Task SendSignalToSelfAsync(string signal)
    {
        using Process kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {Environment.ProcessId}") { UseShellExecute = false })!;
        await kill.WaitForExitAsync().WaitAsync(TestTimeouts.Wait);
        Assert.Equal(0, kill.ExitCode);
    }
}
