using Eddy.Loop;
using Eddy.Selectors;
using Eddy.UnitTests.TestSupport;

namespace Eddy.UnitTests.Loop;

/// <summary>
/// What Close gives back to the OS, counted in /proc/self/fd. The count is process-wide, so these tests run
/// alone (<see cref="SerialCollection"/>); the runtime may still open a descriptor of its own now and then,
/// so a count that differs is measured again a few times before the test fails.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class EventLoopDescriptorsTests : LoopTestBase
{
    [Theory]
    [InlineData("epoll")]
    [InlineData("poll")]
    public void CloseReleasesEveryDescriptorTheLoopOwns(string backend)
    {
        AssertNoDescriptorLeak(() =>
        {
            var loop = new EventLoop(new EventLoopOptions { Selector = backend == "poll" ? new PollSelector() : new EpollSelector() });
            loop.CallLater(TimeSpan.FromMilliseconds(1), loop.Stop);
            loop.CallSoonThreadSafe(() => { }); // signals the wake-up eventfd
            loop.RunForever();
            loop.Close();
        });
    }

    [Fact]
    public void ALoopThatRanSocketAwaitablesLeavesNothingOpenOnceItsSocketsAreDisposed()
    {
        AssertNoDescriptorLeak(() =>
        {
            var loop = new EventLoop(); // the default selector: epoll, or poll under EDDY_SELECTOR=poll
            using (SocketPair pair = SocketPair.Create())
            {
                RunBounded(loop, async () =>
                {
                    ValueTask<int> recv = loop.SockRecvAsync(pair.Server, new byte[8]);
                    await loop.SockSendAllAsync(pair.Client, new byte[] { 1 });
                    await recv;
                });
            }
            loop.Close();
        });
    }

    [Fact]
    public void CreatingAndClosingManyLoopsLeaksNothing()
    {
        AssertNoDescriptorLeak(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                new EventLoop().Close();
            }
        });
    }

    private static void AssertNoDescriptorLeak(Action action)
    {
        action(); // warm-up: lets the runtime open whatever it opens once (native libraries, and so on)
        int before = 0;
        int after = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            before = Descriptors.CountOpen();
            action();
            after = Descriptors.CountOpen();
            if (after == before)
            {
                return;
            }
        }
        Assert.Fail($"Open descriptors went from {before} to {after}.");
    }
}
