using System.Runtime.InteropServices;

namespace Eddy.Interop;

// io_uring(7): the three system calls (no wrapper in glibc: through syscall(2)), mmap(2) for the rings, and the
// kernel's structures (include/uapi/linux/io_uring.h), laid out field for field.
internal static unsafe partial class Libc
{
    public const long SYS_io_uring_setup = 425;
    public const long SYS_io_uring_enter = 426;
    public const long SYS_io_uring_register = 427;

    public const uint IORING_SETUP_CQSIZE = 1u << 3;
    public const uint IORING_SETUP_R_DISABLED = 1u << 6;
    public const uint IORING_REGISTER_ENABLE_RINGS = 12;
    public const uint IORING_SETUP_COOP_TASKRUN = 1u << 8;
    public const uint IORING_SETUP_TASKRUN_FLAG = 1u << 9;
    public const uint IORING_SQ_TASKRUN = 1u << 2;
    public const uint IORING_SETUP_SINGLE_ISSUER = 1u << 12;
    public const uint IORING_SETUP_DEFER_TASKRUN = 1u << 13;
    public const uint IORING_FEAT_SINGLE_MMAP = 1u << 0;
    public const uint IORING_FEAT_EXT_ARG = 1u << 8;
    public const uint IORING_FEAT_REG_REG_RING = 1u << 13; // Linux 6.3: also marks multishot receives (6.0) as present
    public const uint IORING_ENTER_GETEVENTS = 1u << 0;
    public const uint IORING_ENTER_EXT_ARG = 1u << 3;
    public const uint IORING_REGISTER_PROBE = 8;
    public const ushort IO_URING_OP_SUPPORTED = 1;

    public const long IORING_OFF_SQ_RING = 0;
    public const long IORING_OFF_CQ_RING = 0x8000000;
    public const long IORING_OFF_SQES = 0x10000000;

    public const byte IORING_OP_NOP = 0;
    public const byte IORING_OP_POLL_ADD = 6;
    public const byte IORING_OP_POLL_REMOVE = 7;
    public const byte IORING_OP_TIMEOUT = 11;
    public const byte IORING_OP_ACCEPT = 13;
    public const byte IORING_OP_SEND = 26;
    public const byte IORING_OP_RECV = 27;
    public const byte IORING_OP_READ = 22;
    public const byte IORING_OP_ASYNC_CANCEL = 14;

    public const byte IOSQE_BUFFER_SELECT = 1 << 5;     // sqe flags: take a buffer from the group in BufIndex
    public const ushort IORING_RECV_MULTISHOT = 1 << 1; // sqe ioprio of a RECV: one completion per arrival until it ends
    public const ushort IORING_ACCEPT_MULTISHOT = 1 << 0; // sqe ioprio of an ACCEPT: one completion per connection
    public const uint IORING_CQE_F_BUFFER = 1u << 0;    // the completion used a provided buffer: its id is flags >> 16
    public const uint IORING_CQE_F_MORE = 1u << 1;      // a multishot request goes on: more completions follow
    public const int IORING_CQE_BUFFER_SHIFT = 16;
    public const uint IORING_REGISTER_PBUF_RING = 22;
    public const uint IORING_UNREGISTER_PBUF_RING = 23;

    public const int PROT_READ = 0x1;
    public const int PROT_WRITE = 0x2;
    public const int MAP_SHARED = 0x01;
    public const int MAP_POPULATE = 0x8000;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoSqringOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Resv1;
        public ulong UserAddr;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct IoCqringOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Resv1;
        public ulong UserAddr;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct IoUringParams
    {
        public uint SqEntries, CqEntries, Flags, SqThreadCpu, SqThreadIdle, Features, WqFd;
        public fixed uint Resv[3];
        public IoSqringOffsets SqOff;
        public IoCqringOffsets CqOff;
    }

    /// <summary>A submission queue entry (64 bytes); the union members Eddy uses are named for what they hold.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    public struct IoUringSqe
    {
        [FieldOffset(0)] public byte Opcode;
        [FieldOffset(1)] public byte Flags;
        [FieldOffset(2)] public ushort IoPrio;
        [FieldOffset(4)] public int Fd;
        [FieldOffset(8)] public ulong Off;        // file offset; for TIMEOUT the completion count
        [FieldOffset(16)] public ulong Addr;      // buffer, or the timespec of a TIMEOUT
        [FieldOffset(24)] public uint Len;
        [FieldOffset(28)] public uint OpFlags;    // rw_flags, msg_flags, timeout_flags, accept_flags…
        [FieldOffset(32)] public ulong UserData;
        [FieldOffset(40)] public ushort BufIndex;
    }

    /// <summary>A completion queue entry (16 bytes): the submission's user data, its result (-errno on failure), flags.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoUringCqe
    {
        public ulong UserData;
        public int Res;
        public uint Flags;
    }

    /// <summary>struct io_uring_buf_reg: the registration of a provided-buffer ring (IORING_REGISTER_PBUF_RING).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoUringBufReg
    {
        public ulong RingAddr;
        public uint RingEntries;
        public ushort Bgid;
        public ushort Flags;
        public fixed ulong Resv[3];
    }

    /// <summary>struct io_uring_getevents_arg: io_uring_enter's argument with <see cref="IORING_ENTER_EXT_ARG"/> (a wait's timeout).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoUringGeteventsArg
    {
        public ulong Sigmask;
        public uint SigmaskSize;
        public uint MinWaitUsec;
        public ulong Timespec;
    }

    /// <summary>struct __kernel_timespec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct KernelTimespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    // syscall(2) is variadic in C; on x86-64 and arm64 Linux its integer arguments travel in the same registers as a
    // fixed six-argument call's, so this declaration is the call glibc's own wrappers make.
    [LibraryImport(LibC, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    public static int IoUringSetup(uint entries, IoUringParams* parameters) =>
        (int)Syscall(SYS_io_uring_setup, entries, (long)parameters, 0, 0, 0, 0);

    public static int IoUringEnter(int fd, uint toSubmit, uint minComplete, uint flags) =>
        (int)Syscall(SYS_io_uring_enter, fd, toSubmit, minComplete, flags, 0, 0);

    public static int IoUringEnter(int fd, uint toSubmit, uint minComplete, uint flags, IoUringGeteventsArg* arg) =>
        (int)Syscall(SYS_io_uring_enter, fd, toSubmit, minComplete, flags, (long)arg, sizeof(IoUringGeteventsArg));

    public static int IoUringRegister(int fd, uint opcode, void* arg, uint count) =>
        (int)Syscall(SYS_io_uring_register, fd, opcode, (long)arg, count, 0, 0);

    [LibraryImport(LibC, EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(LibC, EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(void* address, nuint length);
}
