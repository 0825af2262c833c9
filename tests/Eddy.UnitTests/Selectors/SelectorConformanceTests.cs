using System.Diagnostics;
using System.IO.Pipes;
using System.Net.Sockets;
using Eddy.Selectors;
using Eddy.UnitTests.TestSupport;

namespace Eddy.UnitTests.Selectors;

/// <summary>
/// The <see cref="Selector"/> contract, written once and run against every backend (one derived class each),
/// as cpython's test_selectors does. Real descriptors: eventfds (readable once signalled, always writable)
/// and loopback TCP pairs. Readiness is level-triggered and a backend may report spurious events, so
/// checks poll a few times for the expected event and ignore the others.
/// The derived classes run in <see cref="SerialCollection"/>: tests that close a descriptor rely on its
/// number not being reused by a test running at the same time.
/// </summary>
public abstract class SelectorConformanceTests : IDisposable
{
    private readonly List<Selector> _selectors = [];
    private readonly List<int> _eventFds = [];
    private readonly List<SocketPair> _pairs = [];

    protected abstract Selector CreateSelector();

    [Fact]
    public void RegisterModifyUnregisterRoundTripKeepsCount()
    {
        Selector selector = NewSelector();
        int a = NewEventFd();
        int b = NewEventFd();
        Assert.Equal(0, selector.Count);

        SelectorKey keyA = selector.Register(a, Interest.Read, "a");
        SelectorKey keyB = selector.Register(b, Interest.Write, "b");
        Assert.Equal(2, selector.Count);
        Assert.Equal(a, keyA.Fd);
        Assert.Equal(Interest.Read, keyA.Interest);
        Assert.True(keyA.IsRegistered);
        Assert.Same(keyA, selector.GetKey(a));
        Assert.True(selector.TryGetKey(b, out SelectorKey? found));
        Assert.Same(keyB, found);

        Assert.Same(keyA, selector.Modify(a, Interest.ReadWrite));
        Assert.Equal(Interest.ReadWrite, keyA.Interest);
        Assert.Equal(2, selector.Count);

        Assert.Same(keyA, selector.Unregister(a));
        Assert.False(keyA.IsRegistered);
        Assert.Equal(1, selector.Count);
        Assert.False(selector.TryGetKey(a, out _));
        Assert.Same(keyB, selector.Unregister(b));
        Assert.Equal(0, selector.Count);
        Assert.Empty(selector.Keys);
    }

    [Fact]
    public void KeysListsEveryRegistrationInFdOrder()
    {
        Selector selector = NewSelector();
        int first = NewEventFd();
        int second = NewEventFd();
        int third = NewEventFd();
        selector.Register(third, Interest.Read);
        selector.Register(first, Interest.Read);
        selector.Register(second, Interest.Write);

        int[] expected = new[] { first, second, third }.Order().ToArray();
        Assert.Equal(expected, selector.Keys.Select(k => k.Fd).ToArray());
    }

    [Fact]
    public void SelectReportsReadReadinessWhenDataIsAvailable()
    {
        Selector selector = NewSelector();
        SocketPair pair = NewPair();
        SelectorKey key = selector.Register(pair.Server.Fd, Interest.Read, "server");

        SocketPair.SendAll(pair.Client, "ping"u8);

        SelectorEvent ev = ExpectEvent(selector, key, Interest.Read);
        Assert.Equal(Interest.Read, ev.Events);
        Assert.Equal("server", ev.Key.Data);
    }

    [Fact]
    public void SelectReportsReadReadinessForASignalledEventFd()
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        SelectorKey key = selector.Register(fd, Interest.Read);
        ExpectNoEvent(selector, key);

        Descriptors.Signal(fd);

        ExpectEvent(selector, key, Interest.Read);
    }

    [Fact]
    public void SelectReportsWriteReadinessForAConnectedSocket()
    {
        Selector selector = NewSelector();
        SocketPair pair = NewPair();
        SelectorKey key = selector.Register(pair.Client.Fd, Interest.Write);

        SelectorEvent ev = ExpectEvent(selector, key, Interest.Write);

        Assert.Equal(Interest.Write, ev.Events);
    }

    [Fact]
    public void ReadinessIsLevelTriggeredUntilTheDataIsConsumed()
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        SelectorKey key = selector.Register(fd, Interest.Read);
        Descriptors.Signal(fd);

        ExpectEvent(selector, key, Interest.Read);
        ExpectEvent(selector, key, Interest.Read);

        Descriptors.Drain(fd);
        ExpectNoEvent(selector, key);
    }

    [Fact]
    public void SelectReturnsZeroWhenTheTimeoutPassesWithoutEvents()
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        selector.Register(fd, Interest.Read);
        var events = new SelectorEvent[8];

        // A signal may cut a wait short (the contract allows it, and the runtime uses signals), but not every one
        // of a few: a backend that does not wait at all fails. Waiting longer on a loaded machine is fine.
        var watch = new Stopwatch();
        var durations = new List<TimeSpan>();
        do
        {
            watch.Restart();
            Assert.Equal(0, selector.Select(events, 20));
            durations.Add(watch.Elapsed);
        }
        while (durations[^1] < TimeSpan.FromMilliseconds(19) && durations.Count < 5);

        Assert.True(durations[^1] >= TimeSpan.FromMilliseconds(19), $"Select(20 ms) returned after {string.Join(", ", durations.Select(d => $"{d.TotalMilliseconds:F1} ms"))}.");
        Assert.True(durations[^1] < TestTimeouts.Wait, $"Select(20 ms) took {durations[^1]}.");
    }

    [Fact]
    public void SelectWithNoRegistrationsReturnsZeroAfterTheTimeout()
    {
        Selector selector = NewSelector();

        Assert.Equal(0, selector.Select(new SelectorEvent[4], 10));
    }

    [Fact]
    public void SelectWithTimeoutZeroReturnsAtOnce()
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        selector.Register(fd, Interest.Read);
        var events = new SelectorEvent[8];

        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(0, selector.Select(events, 0));
        }

        // 100 non-blocking looks take microseconds each; one real wait of even 10 ms each would take a second.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"100 × Select(0) took {watch.Elapsed}.");
    }

    [Fact]
    public void SelectWithAnInfiniteTimeoutReturnsWhenAnotherThreadMakesAnFdReady()
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        SelectorKey key = selector.Register(fd, Interest.Read);
        var events = new SelectorEvent[8];
        int n = -1;
        int emptyReturns = 0;
        var started = new ManualResetEventSlim();
        var selecting = new Thread(() =>
        {
            started.Set();
            // Tolerate EINTR-style empty returns: the contract lets Select return 0 and be called again.
            while ((n = selector.Select(events, -1)) == 0)
            {
                emptyReturns++;
            }
        })
        { IsBackground = true, Name = "select(-1)" };
        selecting.Start();
        Assert.True(started.Wait(TestTimeouts.Wait));

        // Nothing is ready for a while: a Select(-1) that did not block would come back again and again meanwhile.
        // (This window can only miss a spin, on a machine too loaded to run the thread; it cannot fail a good backend.)
        Assert.False(selecting.Join(TimeSpan.FromMilliseconds(50)), "Select(-1) returned with nothing ready");
        Descriptors.Signal(fd);

        bool returned = selecting.Join(TestTimeouts.Wait);
        if (!returned)
        {
            Descriptors.Signal(fd); // unblock the thread before failing, so it does not outlive the test
        }
        Assert.True(returned, "Select(-1) did not return after another thread made the fd readable.");
        Assert.True(emptyReturns <= 3, $"Select(-1) returned empty {emptyReturns} times while it should have been waiting");
        Assert.Equal(1, n);
        Assert.Same(key, events[0].Key);
        Assert.Equal(Interest.Read, events[0].Events);
    }

    [Fact]
    public void DataStoredWithTheKeyComesBackWithItsEvent()
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        var data = new object();
        SelectorKey key = selector.Register(fd, Interest.Read, data);
        Descriptors.Signal(fd);

        SelectorEvent ev = ExpectEvent(selector, key, Interest.Read);

        Assert.Same(data, ev.Key.Data);
        Assert.Same(key, ev.Key);
    }

    [Fact]
    public void AfterModifyTheNewInterestIsReportedAndTheDataIsUpdatedInPlace()
    {
        Selector selector = NewSelector();
        int fd = NewEventFd(); // always writable; readable once signalled
        SelectorKey key = selector.Register(fd, Interest.Read, "before");
        ExpectNoEvent(selector, key);

        SelectorKey modified = selector.Modify(fd, Interest.Write, "after");

        Assert.Same(key, modified);
        Assert.Equal(Interest.Write, key.Interest);
        Assert.Equal("after", key.Data);
        SelectorEvent ev = ExpectEvent(selector, key, Interest.Write);
        Assert.Same(key, ev.Key);
        Assert.Equal("after", ev.Key.Data);
    }

    [Fact]
    public void ModifyWithTheSameInterestUpdatesOnlyTheData()
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        SelectorKey key = selector.Register(fd, Interest.Write, "before");

        selector.Modify(fd, Interest.Write, "after");

        Assert.Equal("after", key.Data);
        Assert.Equal("after", ExpectEvent(selector, key, Interest.Write).Key.Data);
    }

    [Fact]
    public void ModifyWithoutDataKeepsTheData()
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        SelectorKey key = selector.Register(fd, Interest.Read, "kept");

        selector.Modify(fd, Interest.ReadWrite);

        Assert.Equal("kept", key.Data);
        Assert.Equal(Interest.ReadWrite, key.Interest);
    }

    [Fact]
    public void EventsAreReportedOnlyWithinTheKeysInterest()
    {
        Selector selector = NewSelector();
        int readOnly = NewEventFd();
        int writeOnly = NewEventFd();
        int both = NewEventFd();
        // Every one of them is both readable and writable.
        Descriptors.Signal(readOnly);
        Descriptors.Signal(writeOnly);
        Descriptors.Signal(both);
        SelectorKey readKey = selector.Register(readOnly, Interest.Read);
        SelectorKey writeKey = selector.Register(writeOnly, Interest.Write);
        SelectorKey bothKey = selector.Register(both, Interest.ReadWrite);

        var seen = new Dictionary<SelectorKey, Interest>();
        var events = new SelectorEvent[8];
        for (int attempt = 0; attempt < 5; attempt++)
        {
            int n = selector.Select(events, 100);
            for (int i = 0; i < n; i++)
            {
                Assert.NotEqual(Interest.None, events[i].Events);
                Assert.Equal(events[i].Events, events[i].Events & events[i].Key.Interest);
                seen[events[i].Key] = seen.GetValueOrDefault(events[i].Key) | events[i].Events;
            }
        }

        Assert.Equal(Interest.Read, seen[readKey]);
        Assert.Equal(Interest.Write, seen[writeKey]);
        Assert.Equal(Interest.ReadWrite, seen[bothKey]);
    }

    [Fact]
    public void SelectReportsAtMostOneEventPerRegistration()
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        Descriptors.Signal(fd);
        selector.Register(fd, Interest.ReadWrite);
        var events = new SelectorEvent[8];

        int n = selector.Select(events, 1000);

        Assert.Equal(1, n);
        Assert.Equal(Interest.ReadWrite, events[0].Events);
    }

    [Fact]
    public void SelectNeverWritesMoreEventsThanTheSpanHolds()
    {
        Selector selector = NewSelector();
        for (int i = 0; i < 5; i++)
        {
            selector.Register(NewEventFd(), Interest.Write);
        }
        var events = new SelectorEvent[3];

        int n = selector.Select(events.AsSpan(0, 2), 1000);

        Assert.Equal(2, n);
        Assert.Null(events[2].Key);
    }

    [Fact]
    public void SelectWithAnEmptySpanIsRejected()
    {
        Selector selector = NewSelector();

        Assert.Throws<ArgumentException>(() => selector.Select(Span<SelectorEvent>.Empty, 0));
    }

    [Fact]
    public void PeerCloseIsReportedAsReadable()
    {
        Selector selector = NewSelector();
        SocketPair pair = NewPair();
        SelectorKey key = selector.Register(pair.Server.Fd, Interest.Read);
        ExpectNoEvent(selector, key);

        pair.Client.Dispose();

        ExpectEvent(selector, key, Interest.Read);
        Assert.Equal(0, pair.Server.Receive(new byte[16], out _)); // the event meant end of stream
    }

    [Fact]
    public void PeerShutdownOfItsWritingSideIsReportedAsReadable()
    {
        Selector selector = NewSelector();
        SocketPair pair = NewPair();
        SelectorKey key = selector.Register(pair.Server.Fd, Interest.Read);

        pair.Client.Shutdown(SocketShutdown.Send);

        ExpectEvent(selector, key, Interest.Read);
    }

    [Fact]
    public void AnErrorOnTheDescriptorIsReportedAsEveryInterestOfTheKey()
    {
        Selector selector = NewSelector();
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        int writeEnd = (int)pipe.SafePipeHandle.DangerousGetHandle();
        // The write end of a pipe is never readable; it only fails (EPOLLERR/POLLERR) once the last reader is gone (pipe(7)).
        SelectorKey key = selector.Register(writeEnd, Interest.Read);
        ExpectNoEvent(selector, key);

        pipe.ClientSafePipeHandle.Dispose();

        SelectorEvent ev = ExpectEvent(selector, key, Interest.Read);
        Assert.Equal(Interest.Read, ev.Events);
        selector.Unregister(writeEnd);
    }

    [Fact]
    public void APeerResetIsReportedAsReadable()
    {
        Selector selector = NewSelector();
        SocketPair pair = NewPair();
        SocketPair.SendAll(pair.Client, "unread"u8);
        SocketPair.WaitReadable(pair.Server.Fd);
        SelectorKey key = selector.Register(pair.Client.Fd, Interest.Read);

        // Closing with unread data makes the kernel answer with a reset (RFC 2525 §2.17): an error on the client.
        pair.Server.Dispose();

        ExpectEvent(selector, key, Interest.Read);
        Assert.Equal(-1, pair.Client.Receive(new byte[16], out Errno errno));
        Assert.Equal(Errno.ECONNRESET, errno);
    }

    [Fact]
    public void AnFdUnregisteredEarlierIsNeverReported()
    {
        Selector selector = NewSelector();
        int gone = NewEventFd();
        int kept = NewEventFd();
        Descriptors.Signal(gone);
        Descriptors.Signal(kept);
        SelectorKey goneKey = selector.Register(gone, Interest.ReadWrite);
        SelectorKey keptKey = selector.Register(kept, Interest.ReadWrite);

        selector.Unregister(gone);

        var events = new SelectorEvent[8];
        bool sawKept = false;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            int n = selector.Select(events, 100);
            for (int i = 0; i < n; i++)
            {
                Assert.NotSame(goneKey, events[i].Key);
                Assert.NotEqual(gone, events[i].Key.Fd);
                sawKept |= events[i].Key == keptKey;
            }
        }
        Assert.True(sawKept);
    }

    [Fact]
    public void AnFdRegisteredAgainAfterUnregisterIsReportedWithItsNewKey()
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        SelectorKey first = selector.Register(fd, Interest.Write, "first");
        selector.Unregister(fd);

        SelectorKey second = selector.Register(fd, Interest.Write, "second");

        Assert.NotSame(first, second);
        Assert.False(first.IsRegistered);
        SelectorEvent ev = ExpectEvent(selector, second, Interest.Write);
        Assert.Same(second, ev.Key);
        Assert.Equal("second", ev.Key.Data);
    }

    [Fact]
    public void ManyRegistrationsAreAllReportedWithTheirOwnDataAfterSomeAreRemoved()
    {
        // More than the backends' initial tables (64), and removals from the middle.
        Selector selector = NewSelector();
        var fds = new List<int>();
        for (int i = 0; i < 150; i++)
        {
            int fd = NewEventFd();
            fds.Add(fd);
            selector.Register(fd, Interest.Write, fd);
        }
        List<int> removed = fds.Where((_, i) => i % 3 == 0).ToList();
        foreach (int fd in removed)
        {
            selector.Unregister(fd);
        }
        HashSet<int> expected = fds.Except(removed).ToHashSet();
        Assert.Equal(expected.Count, selector.Count);

        var events = new SelectorEvent[256];
        var seen = new HashSet<int>();
        for (int attempt = 0; attempt < 5 && seen.Count < expected.Count; attempt++)
        {
            int n = selector.Select(events, 100);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(events[i].Key.Fd, (int)events[i].Key.Data!);
                Assert.Contains(events[i].Key.Fd, expected);
                seen.Add(events[i].Key.Fd);
            }
        }
        Assert.Equal(expected.Order(), seen.Order());
    }

    [Fact]
    public void RegisteringTheSameFdTwiceThrowsNamingTheFd()
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        SelectorKey key = selector.Register(fd, Interest.Read, "original");

        var e = Assert.Throws<ArgumentException>(() => selector.Register(fd, Interest.Write, "again"));

        Assert.Contains($"fd {fd}", e.Message);
        Assert.Contains("already registered", e.Message);
        Assert.Equal(1, selector.Count);
        Assert.Same(key, selector.GetKey(fd));
        Assert.Equal(Interest.Read, key.Interest);
        Assert.Equal("original", key.Data);
    }

    [Theory]
    [InlineData("Modify")]
    [InlineData("Unregister")]
    [InlineData("GetKey")]
    public void UsingAnUnknownFdThrowsKeyNotFoundNamingTheFdAndTheOperation(string operation)
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        selector.Register(NewEventFd(), Interest.Read);

        var e = Assert.Throws<KeyNotFoundException>(() => Call(selector, operation, fd));

        Assert.Contains($"fd {fd}", e.Message);
        Assert.Contains(operation, e.Message);
    }

    [Theory]
    [InlineData("Modify")]
    [InlineData("Unregister")]
    public void UsingAnFdThatWasUnregisteredThrowsKeyNotFound(string operation)
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        selector.Register(fd, Interest.Read);
        selector.Unregister(fd);

        var e = Assert.Throws<KeyNotFoundException>(() => Call(selector, operation, fd));

        Assert.Contains($"fd {fd}", e.Message);
    }

    [Fact]
    public void UsingANegativeFdIsRejected()
    {
        Selector selector = NewSelector();

        Assert.False(selector.TryGetKey(-1, out _));
        Assert.Throws<KeyNotFoundException>(() => selector.Unregister(-1));
        var e = Assert.Throws<PosixException>(() => selector.Register(-1, Interest.Read));
        Assert.Equal(Errno.EBADF, e.Errno);
        Assert.Equal(0, selector.Count);
    }

    [Fact]
    public void RegisteringAClosedFdThrowsEbadfAndRegistersNothing()
    {
        Selector selector = NewSelector();
        int fd = Descriptors.CreateEventFd();
        Descriptors.Close(fd);

        var e = Assert.Throws<PosixException>(() => selector.Register(fd, Interest.Read));

        Assert.Equal(Errno.EBADF, e.Errno);
        Assert.Equal(fd, e.Fd);
        Assert.Contains($"fd {fd}", e.Message);
        Assert.Equal(0, selector.Count);
        Assert.False(selector.TryGetKey(fd, out _));
    }

    [Fact]
    public void ModifyingARegisteredFdThatWasClosedThrowsEbadf()
    {
        Selector selector = NewSelector();
        int fd = Descriptors.CreateEventFd();
        SelectorKey key = selector.Register(fd, Interest.Read, "data");
        Descriptors.Close(fd);

        var e = Assert.Throws<PosixException>(() => selector.Modify(fd, Interest.Write, "new"));

        Assert.Equal(Errno.EBADF, e.Errno);
        Assert.Contains($"fd {fd}", e.Message);
        Assert.Equal(Interest.Read, key.Interest); // a failed Modify changes nothing
        Assert.Equal("data", key.Data);
        selector.Unregister(fd);
    }

    [Fact]
    public void UnregisteringAnFdThatWasAlreadyClosedSucceeds()
    {
        Selector selector = NewSelector();
        int fd = Descriptors.CreateEventFd();
        SelectorKey key = selector.Register(fd, Interest.Read);
        Descriptors.Close(fd);

        Assert.Same(key, selector.Unregister(fd));

        Assert.Equal(0, selector.Count);
        Assert.False(key.IsRegistered);
    }

    [Fact]
    public void AClosedAndUnregisteredFdIsNeverReported()
    {
        Selector selector = NewSelector();
        int fd = Descriptors.CreateEventFd();
        Descriptors.Signal(fd);
        selector.Register(fd, Interest.ReadWrite);
        Descriptors.Close(fd);
        selector.Unregister(fd);

        Assert.Equal(0, selector.Select(new SelectorEvent[4], 10));
    }

    [Theory]
    [InlineData(Interest.None)]
    [InlineData((Interest)4)]
    [InlineData((Interest)(-1))]
    public void AnInterestOtherThanReadWriteOrBothIsRejected(Interest interest)
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();

        var onRegister = Assert.Throws<ArgumentOutOfRangeException>(() => selector.Register(fd, interest));
        Assert.Contains($"fd {fd}", onRegister.Message);
        Assert.Equal(0, selector.Count);

        SelectorKey key = selector.Register(fd, Interest.Read);
        Assert.Throws<ArgumentOutOfRangeException>(() => selector.Modify(fd, interest));
        Assert.Equal(Interest.Read, key.Interest);
    }

    [Theory]
    [InlineData("Register")]
    [InlineData("Modify")]
    [InlineData("Unregister")]
    [InlineData("GetKey")]
    [InlineData("Select")]
    public void AnyCallOnAClosedSelectorThrowsObjectDisposed(string operation)
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        selector.Register(fd, Interest.Read);
        selector.Close();

        var e = Assert.Throws<ObjectDisposedException>(() => Call(selector, operation, fd));

        Assert.Contains(operation, e.Message);
    }

    [Fact]
    public void CloseIsIdempotentAndUnregistersEverythingWithoutClosingTheFds()
    {
        Selector selector = NewSelector();
        int fd = NewEventFd();
        SelectorKey key = selector.Register(fd, Interest.Read);

        selector.Close();
        selector.Close();
        selector.Dispose();

        Assert.True(selector.IsClosed);
        Assert.Equal(0, selector.Count);
        Assert.False(key.IsRegistered);
        Assert.False(selector.TryGetKey(fd, out _));
        Assert.True(Descriptors.IsOpen(fd));
    }

    private static void Call(Selector selector, string operation, int fd)
    {
        switch (operation)
        {
            case "Register":
                selector.Register(fd, Interest.Write);
                break;
            case "Modify":
                selector.Modify(fd, Interest.Write);
                break;
            case "Unregister":
                selector.Unregister(fd);
                break;
            case "GetKey":
                selector.GetKey(fd);
                break;
            case "Select":
                selector.Select(new SelectorEvent[1], 0);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(operation), operation, null);
        }
    }

    /// <summary>Selects until <paramref name="key"/> is reported with all of <paramref name="expected"/>; other events are ignored.</summary>
    protected static SelectorEvent ExpectEvent(Selector selector, SelectorKey key, Interest expected)
    {
        var events = new SelectorEvent[64];
        long deadline = Environment.TickCount64 + (long)TestTimeouts.Wait.TotalMilliseconds;
        while (Environment.TickCount64 < deadline)
        {
            int n = selector.Select(events, 100);
            for (int i = 0; i < n; i++)
            {
                if (events[i].Key == key && (events[i].Events & expected) == expected)
                {
                    return events[i];
                }
            }
        }
        throw new Xunit.Sdk.XunitException($"Expected {key} to be reported {expected} within {TestTimeouts.Wait}.");
    }

    /// <summary>Looks a few times and fails if <paramref name="key"/> is reported.</summary>
    protected static void ExpectNoEvent(Selector selector, SelectorKey key)
    {
        var events = new SelectorEvent[64];
        for (int attempt = 0; attempt < 3; attempt++)
        {
            int n = selector.Select(events, attempt == 0 ? 0 : 5);
            for (int i = 0; i < n; i++)
            {
                Assert.False(events[i].Key == key, $"Unexpected event {events[i]}.");
            }
        }
    }

    private Selector NewSelector()
    {
        Selector selector = CreateSelector();
        _selectors.Add(selector);
        return selector;
    }

    private int NewEventFd()
    {
        int fd = Descriptors.CreateEventFd();
        _eventFds.Add(fd);
        return fd;
    }

    private SocketPair NewPair()
    {
        SocketPair pair = SocketPair.Create();
        _pairs.Add(pair);
        return pair;
    }

    public void Dispose()
    {
        foreach (Selector selector in _selectors)
        {
            selector.Dispose();
        }
        foreach (int fd in _eventFds)
        {
            Descriptors.Close(fd);
        }
        foreach (SocketPair pair in _pairs)
        {
            pair.Dispose();
        }
        GC.SuppressFinalize(this);
    }
}
