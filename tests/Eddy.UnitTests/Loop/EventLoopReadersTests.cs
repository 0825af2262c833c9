using Eddy.Loop;
using Eddy.Selectors;
using Eddy.UnitTests.TestSupport;

namespace Eddy.UnitTests.Loop;

/// <summary>
/// AddReader/AddWriter and their removal. Real loopback sockets and a real selector for what fires; a fake selector for
/// which registrations the loop makes. A tick driven with a callback already queued does not block (select
/// timeout 0), which lets a test check that nothing fires without waiting.
/// </summary>
public sealed class EventLoopReadersTests : LoopTestBase
{
    private readonly SocketPair _pair;

    public EventLoopReadersTests() => _pair = Own(SocketPair.Create());

    [Fact]
    public void AReaderRunsWhenDataIsAvailableAndStopsAfterRemoveReader()
    {
        EventLoop loop = CreateRealLoop();
        int runs = 0;
        var state = new object();
        object? seenState = null;
        loop.AddReader(_pair.Server.Fd, s =>
        {
            runs++;
            seenState = s;
        }, state);
        Assert.Equal(2, loop.Selector.Count);
        Tick(loop);
        Assert.Equal(0, runs);

        SocketPair.SendAll(_pair.Client, "ping"u8);
        RunUntil(loop, () => runs > 0);
        Assert.Same(state, seenState);

        // Level-triggered: the unread data keeps it firing until the reader is removed.
        int before = runs;
        Tick(loop);
        Assert.Equal(before + 1, runs);

        Assert.True(loop.RemoveReader(_pair.Server.Fd));
        Tick(loop);
        Tick(loop);
        Assert.Equal(before + 1, runs);
        Assert.Equal(1, loop.Selector.Count); // only the loop's own wake-up eventfd
    }

    [Fact]
    public void RemoveReaderOrWriterReturnsFalseWhenThereIsNone()
    {
        EventLoop loop = CreateRealLoop();

        Assert.False(loop.RemoveReader(_pair.Server.Fd));
        Assert.False(loop.RemoveWriter(_pair.Server.Fd));

        loop.AddWriter(_pair.Server.Fd, _ => { }, null);
        Assert.False(loop.RemoveReader(_pair.Server.Fd));
        Assert.True(loop.RemoveWriter(_pair.Server.Fd));
        Assert.False(loop.RemoveWriter(_pair.Server.Fd));
    }

    [Fact]
    public void AWriterRunsOnAConnectedSocket()
    {
        EventLoop loop = CreateRealLoop();
        int runs = 0;
        loop.AddWriter(_pair.Client.Fd, _ => runs++, null);

        RunUntil(loop, () => runs > 0);

        Assert.True(loop.RemoveWriter(_pair.Client.Fd));
        int after = runs;
        Tick(loop);
        Assert.Equal(after, runs);
    }

    [Fact]
    public void RemovingBothReaderAndWriterUnregistersTheFd()
    {
        EventLoop loop = CreateRealLoop();
        int fd = _pair.Server.Fd;
        loop.AddReader(fd, _ => { }, null);
        loop.AddWriter(fd, _ => { }, null);
        Assert.Equal(2, loop.Selector.Count);
        Assert.Equal(Interest.ReadWrite, loop.Selector.GetKey(fd).Interest);

        Assert.True(loop.RemoveReader(fd));
        Assert.Equal(Interest.Write, loop.Selector.GetKey(fd).Interest);
        Assert.True(loop.RemoveWriter(fd));

        Assert.Equal(1, loop.Selector.Count);
        Assert.False(loop.Selector.TryGetKey(fd, out _));
    }

    [Fact]
    public void AReaderAndAWriterOnOneFdBothRun()
    {
        EventLoop loop = CreateRealLoop();
        int fd = _pair.Server.Fd;
        bool read = false;
        bool wrote = false;
        loop.AddReader(fd, _ => read = true, null);
        loop.AddWriter(fd, _ => wrote = true, null);

        SocketPair.SendAll(_pair.Client, "x"u8);
        RunUntil(loop, () => read && wrote);
    }

    [Fact]
    public void AddingAReaderAgainReplacesTheEarlierOne()
    {
        EventLoop loop = CreateRealLoop();
        var calls = new List<string>();
        loop.AddReader(_pair.Server.Fd, _ => calls.Add("first"), null);
        loop.AddReader(_pair.Server.Fd, _ => calls.Add("second"), null);
        Assert.Equal(2, loop.Selector.Count);

        SocketPair.SendAll(_pair.Client, "x"u8);
        RunUntil(loop, () => calls.Count > 0);

        Assert.All(calls, c => Assert.Equal("second", c));
    }

    [Fact]
    public void AReaderMayRemoveItselfAndTheWriterOfTheSameEvent()
    {
        EventLoop loop = CreateRealLoop();
        int fd = _pair.Server.Fd;
        int reads = 0;
        int writes = 0;
        loop.AddReader(fd, _ =>
        {
            reads++;
            loop.RemoveReader(fd);
            loop.RemoveWriter(fd);
        }, null);
        loop.AddWriter(fd, _ => writes++, null);
        SocketPair.SendAll(_pair.Client, "x"u8);
        SocketPair.WaitReadable(fd);

        Tick(loop);

        Assert.Equal(1, reads);
        Assert.Equal(0, writes); // removed by the reader before the writer's turn in the same event
        Assert.Equal(1, loop.Selector.Count);
    }

    [Fact]
    public void ClosingTheLoopDoesNotCloseTheCallersDescriptors()
    {
        EventLoop loop = CreateRealLoop();
        loop.AddReader(_pair.Server.Fd, _ => { }, null);

        loop.Close();

        Assert.True(Descriptors.IsOpen(_pair.Server.Fd));
        Assert.False(_pair.Server.IsClosed);
    }

    [Fact]
    public void AddReaderRejectsANegativeFdAndANullCallback()
    {
        EventLoop loop = CreateRealLoop();

        Assert.Throws<ArgumentOutOfRangeException>(() => loop.AddReader(-1, _ => { }, null));
        Assert.Throws<ArgumentNullException>(() => loop.AddReader(_pair.Server.Fd, null!, null));
        Assert.Throws<ArgumentNullException>(() => loop.AddWriter(_pair.Server.Fd, null!, null));
        Assert.Equal(1, loop.Selector.Count);
    }

    [Fact]
    public void TheLoopRegistersExactlyWhatItsCallbacksNeed()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _);
        int fd = _pair.Server.Fd;
        selector.BackendCalls.Clear();

        loop.AddReader(fd, _ => { }, null);
        loop.AddReader(fd, _ => { }, null); // same interest: no backend call
        loop.AddWriter(fd, _ => { }, null);
        loop.RemoveReader(fd);
        loop.RemoveWriter(fd);

        Assert.Equal([$"add {fd} Read", $"modify {fd} ReadWrite", $"modify {fd} Write", $"remove {fd}"], selector.BackendCalls);
    }

    [Fact]
    public void AReaderRunsInTheTickItsFdIsReportedBeforeQueuedCallbacks()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _);
        int fd = _pair.Server.Fd;
        var order = new List<string>();
        loop.AddReader(fd, _ => order.Add("reader"), null);
        loop.CallSoon(() => order.Add("soon"));
        selector.SetReady(fd, Interest.Read);

        loop.RunOnce();

        Assert.Equal(["reader", "soon"], order);
    }

    [Fact]
    public void AnEventForAnInterestWithoutACallbackRunsNothing()
    {
        EventLoop loop = CreateFakeLoop(out FakeSelector selector, out _);
        int fd = _pair.Server.Fd;
        int reads = 0;
        loop.AddReader(fd, _ => reads++, null);
        selector.SetReady(fd, Interest.ReadWrite); // the fake reports only what the key asked for

        loop.RunOnce();

        Assert.Equal(1, reads);
    }

    /// <summary>One tick that does not block: a queued no-op makes the loop's select timeout 0.</summary>
    private static void Tick(EventLoop loop)
    {
        loop.CallSoon(() => { });
        loop.RunOnce();
    }

    /// <summary>Runs ticks until <paramref name="condition"/> holds; a watchdog timer bounds every wait.</summary>
    private static void RunUntil(EventLoop loop, Func<bool> condition)
    {
        bool timedOut = false;
        TimerHandle watchdog = loop.CallLater(TestTimeouts.Wait, () => timedOut = true);
        try
        {
            while (!condition())
            {
                Assert.False(timedOut, $"Timed out after {TestTimeouts.Wait}.");
                loop.RunOnce();
            }
        }
        finally
        {
            watchdog.Cancel();
        }
    }
}
