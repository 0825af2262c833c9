using Eddy.Internal;
using Xunit;

namespace Eddy.UnitTests.Internal;

public class LoopBufferPoolTests
{
    [Fact]
    public void AnArrayReturnedIsRentedAgainOnTheSameThread()
    {
        byte[] first = LoopBufferPool.Rent(40_000);
        Assert.Equal(64 * 1024, first.Length); // a power of two: one size per bucket
        LoopBufferPool.Return(first);
        Assert.Same(first, LoopBufferPool.Rent(33_000));
    }

    [Theory]
    [InlineData(LoopBufferPool.MaxPooledLength, 64)]  // 64 connections of one loop holding a 64 KiB input buffer each
    [InlineData(4 * 1024, 1024)]                      // 1,024 io_uring sends in flight, a 4 KiB chunk each
    public void AThreadKeepsAsManyArraysOfOneSizeAsItsBusiestMomentHeldUpToTheBound(int length, int bound)
    {
        Assert.Equal(bound, LoopBufferPool.ArraysPerSize(length));
        var held = new byte[bound + 1][];
        for (int i = 0; i < held.Length; i++)
        {
            held[i] = LoopBufferPool.Rent(length);
        }
        foreach (byte[] array in held)
        {
            LoopBufferPool.Return(array); // the last one is over the bound: dropped
        }
        var again = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < held.Length; i++)
        {
            again.Add(LoopBufferPool.Rent(length));
        }
        Assert.Equal(bound, again.Count(held.Contains));
        foreach (byte[] array in again)
        {
            LoopBufferPool.Return(array);
        }
    }

    [Fact]
    public void ArraysAreOnThePinnedHeapAndSmallRequestsGetTheSmallestSize()
    {
        // On a new thread, so the array is made now, not one kept from earlier: a fresh array is in generation 0
        // unless it is on the pinned object heap (which the GC reports as its oldest generation).
        byte[]? small = null;
        var thread = new Thread(() => small = LoopBufferPool.Rent(10));
        thread.Start();
        thread.Join();
        Assert.Equal(LoopBufferPool.MinPooledLength, small!.Length);
        Assert.True(LoopBufferPool.IsPinned(small));
        Assert.Equal(GC.MaxGeneration, GC.GetGeneration(small));
    }

    [Fact]
    public void AnArrayOfAnotherSizeIsNotTakenIntoAStack()
    {
        LoopBufferPool.Return(new byte[3000]); // not a power of two: renting 2 KiB or 4 KiB must not get it
        Assert.Equal(2048, LoopBufferPool.Rent(2048).Length);
        Assert.Equal(4096, LoopBufferPool.Rent(3000).Length);
    }

    [Fact]
    public void ArraysLargerThanTheLoopPoolsCeilingComeFromTheSharedPool()
    {
        byte[] large = LoopBufferPool.Rent(LoopBufferPool.MaxPooledLength + 1);
        Assert.True(large.Length >= LoopBufferPool.MaxPooledLength + 1);
        LoopBufferPool.Return(large); // does not throw: the shared pool takes it
    }
}
