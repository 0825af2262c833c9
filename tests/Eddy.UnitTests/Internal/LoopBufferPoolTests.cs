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

    [Fact]
    public void AThreadKeepsAsManyArraysOfOneSizeAsItsBusiestMomentHeldUpToTheBound()
    {
        // 64 connections of one loop holding a 64 KiB input buffer each (64 uploads at once): all 64 come back.
        var held = new byte[LoopBufferPool.ArraysPerSize][];
        for (int i = 0; i < held.Length; i++)
        {
            held[i] = LoopBufferPool.Rent(LoopBufferPool.MaxPooledLength);
        }
        foreach (byte[] array in held)
        {
            LoopBufferPool.Return(array);
        }
        var again = new HashSet<byte[]>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < held.Length; i++)
        {
            again.Add(LoopBufferPool.Rent(LoopBufferPool.MaxPooledLength));
        }
        Assert.True(again.SetEquals(held));
        foreach (byte[] array in again)
        {
            LoopBufferPool.Return(array);
        }
    }

    [Fact]
    public void ArraysLargerThanTheLoopPoolsCeilingComeFromTheSharedPool()
    {
        byte[] large = LoopBufferPool.Rent(LoopBufferPool.MaxPooledLength + 1);
        Assert.True(large.Length >= LoopBufferPool.MaxPooledLength + 1);
        LoopBufferPool.Return(large); // does not throw: the shared pool takes it
    }
}
