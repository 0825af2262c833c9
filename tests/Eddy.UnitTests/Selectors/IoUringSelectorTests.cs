using Eddy.Interop;
using Eddy.Selectors;
using Eddy.UnitTests.TestSupport;

namespace Eddy.UnitTests.Selectors;

/// <summary>The <see cref="Selector"/> contract on io_uring (this kernel has it: issue 17's step 1 measured it here).</summary>
[Collection(SerialCollection.Name)]
public sealed class IoUringSelectorTests : SelectorConformanceTests
{
    protected override Selector CreateSelector() => new IoUringSelector();

    [Fact]
    public void NameIsIoUring()
    {
        using Selector selector = CreateSelector();

        Assert.Equal("io_uring", selector.Name);
    }

    [Fact]
    public void DoesItsOwnReceivesAndSendsOnThisKernelUnlessAskedNotTo()
    {
        using var ring = new IoUringSelector();
        using var waitOnly = new IoUringSelector(ringIo: false);

        Assert.True(ring.RingIo);
        Assert.False(waitOnly.RingIo);
    }

    [Fact]
    public void AWaitFromAnotherThreadThanTheFirstIsRefusedWithTheRule()
    {
        int first = Descriptors.CreateEventFd();
        int second = Descriptors.CreateEventFd();
        try
        {
            using var selector = new IoUringSelector();
            var events = new SelectorEvent[4];
            selector.Register(first, Interest.Read);
            Assert.Equal(0, selector.Select(events, 0)); // hands the poll over: this thread is now the ring's submitter
            selector.Register(second, Interest.Read);    // something to hand over, so the next wait enters the ring

            Exception? error = null;
            var other = new Thread(() => error = Record.Exception(() => selector.Select(events, 0)));
            other.Start();
            other.Join();

            var refused = Assert.IsType<InvalidOperationException>(error);
            Assert.Contains("thread that first waited", refused.Message);
        }
        finally
        {
            Libc.Close(first);
            Libc.Close(second);
        }
    }
}
