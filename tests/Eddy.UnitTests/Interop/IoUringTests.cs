using System.Runtime.InteropServices;
using Eddy.Interop;

namespace Eddy.UnitTests.Interop;

/// <summary>
/// The io_uring ring on this kernel (issue 17 needs it; io_uring_setup works here, as the issue says): submissions go
/// in, completions come out with their user data, a read waits for its data, a timeout fires with -ETIME, a full
/// submission ring says so, and the probe tells supported operations from unknown ones.
/// </summary>
public unsafe class IoUringTests
{
    private const int ETIME = 62;

    [Theory]
    [InlineData(0u)]
    [InlineData(Libc.IORING_SETUP_SINGLE_ISSUER | Libc.IORING_SETUP_DEFER_TASKRUN)]
    public void NopsCompleteWithTheirUserData(uint flags)
    {
        using IoUring ring = IoUring.Create(8, flags);
        for (ulong id = 1; id <= 3; id++)
        {
            Assert.True(ring.TryGetSqe(out Libc.IoUringSqe* sqe));
            sqe->Opcode = Libc.IORING_OP_NOP;
            sqe->UserData = id * 1000;
        }
        Assert.Equal(3u, ring.Unsubmitted);

        Assert.Equal(3, ring.Submit(waitFor: 3));

        var seen = new List<ulong>();
        while (ring.TryPeek(out Libc.IoUringCqe cqe))
        {
            Assert.Equal(0, cqe.Res);
            seen.Add(cqe.UserData);
            ring.Advance();
        }
        Assert.Equal([1000UL, 2000UL, 3000UL], seen.Order());
        Assert.Equal(0u, ring.Unsubmitted);
    }

    [Fact]
    public void AReadOfAnEventFdCompletesOnlyOnceItIsSignalled()
    {
        using IoUring ring = IoUring.Create(4);
        int efd = Libc.EventFd(0, Libc.EFD_CLOEXEC); // blocking: the ring waits for it (a non-blocking one answers -EAGAIN)
        Assert.True(efd >= 0);
        ulong* value = (ulong*)NativeMemory.AllocZeroed(sizeof(ulong));
        try
        {
            Assert.True(ring.TryGetSqe(out Libc.IoUringSqe* sqe));
            sqe->Opcode = Libc.IORING_OP_READ;
            sqe->Fd = efd;
            sqe->Addr = (ulong)value;
            sqe->Len = sizeof(ulong);
            sqe->UserData = 7;
            ring.Submit();
            Assert.False(ring.TryPeek(out _)); // nothing to read yet: the read is parked in the kernel

            Libc.EventFdSignal(efd);
            ring.Submit(waitFor: 1);

            Assert.True(ring.TryPeek(out Libc.IoUringCqe cqe));
            Assert.Equal((7UL, sizeof(ulong)), (cqe.UserData, cqe.Res));
            Assert.Equal(1UL, *value);
            ring.Advance();
            Assert.False(ring.TryPeek(out _));
        }
        finally
        {
            NativeMemory.Free(value);
            Libc.Close(efd);
        }
    }

    [Fact]
    public void ATimeoutCompletesWithETime()
    {
        using IoUring ring = IoUring.Create(4);
        var timeout = (Libc.KernelTimespec*)NativeMemory.AllocZeroed((nuint)sizeof(Libc.KernelTimespec));
        try
        {
            timeout->Nanoseconds = 1_000_000; // 1 ms
            Assert.True(ring.TryGetSqe(out Libc.IoUringSqe* sqe));
            sqe->Opcode = Libc.IORING_OP_TIMEOUT;
            sqe->Addr = (ulong)timeout;
            sqe->Len = 1;
            sqe->UserData = 99;

            ring.Submit(waitFor: 1);

            Assert.True(ring.TryPeek(out Libc.IoUringCqe cqe));
            Assert.Equal((99UL, -ETIME), (cqe.UserData, cqe.Res));
            ring.Advance();
        }
        finally
        {
            NativeMemory.Free(timeout);
        }
    }

    [Fact]
    public void AFullSubmissionRingRefusesAnotherEntryUntilSubmitted()
    {
        using IoUring ring = IoUring.Create(4);
        for (int i = 0; i < ring.SubmissionEntries; i++)
        {
            Assert.True(ring.TryGetSqe(out Libc.IoUringSqe* sqe));
            sqe->Opcode = Libc.IORING_OP_NOP;
        }
        Assert.False(ring.TryGetSqe(out _));

        ring.Submit(waitFor: ring.SubmissionEntries);

        Assert.True(ring.TryGetSqe(out Libc.IoUringSqe* next));
        next->Opcode = Libc.IORING_OP_NOP;
        for (uint i = 0; i < ring.SubmissionEntries; i++)
        {
            Assert.True(ring.TryPeek(out _));
            ring.Advance();
        }
    }

    [Fact]
    public void TheProbeKnowsTheOperationsTheBackendNeedsAndNoUnknownOne()
    {
        using IoUring ring = IoUring.Create(4);

        Assert.True(ring.Supports(Libc.IORING_OP_NOP));
        Assert.True(ring.Supports(Libc.IORING_OP_ACCEPT));
        Assert.True(ring.Supports(Libc.IORING_OP_RECV));
        Assert.True(ring.Supports(Libc.IORING_OP_SEND));
        Assert.False(ring.Supports(250));
        Assert.NotEqual(0u, ring.Features & Libc.IORING_FEAT_SINGLE_MMAP);
    }
}
