using System.Buffers;
using System.Numerics;

namespace Eddy.Internal;

/// <summary>
/// The pool a loop thread's byte buffers rent from — the <see cref="ByteBuffer"/>s of its connections' input and the
/// chunks of their transports' write buffers: arrays of power-of-two sizes from <see cref="MinPooledLength"/> to
/// <see cref="MaxPooledLength"/> from stacks of that thread's own, larger ones from <see cref="ArrayPool{T}.Shared"/>.
/// <para>
/// Why not <see cref="ArrayPool{T}.Shared"/> for all: it keeps one array per size per thread and 32 per size per core.
/// A loop serving 64 uploads holds 64 input buffers of 64 KiB at once, beside the handlers' own 64 KiB read buffers
/// from the same shared pool, so most rents missed and allocated: ~26 KB of garbage per 1 MiB upload, and the
/// workstation GC let the heap grow by tens of MiB between collections (bench/upload.sh; issue 11). On io_uring every
/// response waits in its transport's write buffer until its send completes, so a loop that answers 256 connections in
/// one tick holds 256 send chunks at once: with the shared pool that allocated ~2.7 KB per request
/// (<c>HttpAllocationTests</c>). Every buffer lives on one loop thread, so a pool per thread (Netty's per-thread
/// caches are the model) sees only its loop's connections, is sized for them and needs no lock.
/// </para>
/// <para>
/// What it keeps is bounded: per size, as many arrays as the thread's busiest moment held at once, up to
/// <see cref="BytesPerSize"/> bytes of them (and at least <see cref="MinArraysPerSize"/> arrays) — 1,024 send chunks of
/// 4 KiB, 64 input buffers of 64 KiB. An array returned on another thread than the one that rented it joins that
/// thread's pool: harmless.
/// </para>
/// <para>
/// The arrays it makes are allocated on the pinned object heap: the GC never moves them, so an io_uring send can hand
/// the kernel their address without pinning them per send. Only arrays from <see cref="Rent"/> may be given back.
/// </para>
/// </summary>
internal static class LoopBufferPool
{
    /// <summary>The smallest array made: smaller requests get this size.</summary>
    public const int MinPooledLength = 1024;

    /// <summary>The largest array kept per thread: an HTTP or WebSocket connection's input stops growing at 64 KiB of
    /// unread bytes (<c>MaxRequestBufferSize</c>).</summary>
    public const int MaxPooledLength = 64 * 1024;

    /// <summary>The most bytes kept per size per thread (unless that is fewer than <see cref="MinArraysPerSize"/> arrays).</summary>
    public const int BytesPerSize = 4 * 1024 * 1024;

    /// <summary>The fewest arrays kept per size per thread: a loop's connections that hold an input buffer of one size at once.</summary>
    public const int MinArraysPerSize = 64;

    private const int MinShift = 10; // log2(MinPooledLength)
    private const int Sizes = 7;     // 1 KiB … 64 KiB

    [ThreadStatic]
    private static Stack[]? s_stacks;

    /// <summary>How many arrays of <paramref name="length"/> bytes (a pooled size) a thread keeps at most.</summary>
    public static int ArraysPerSize(int length) => Math.Max(MinArraysPerSize, BytesPerSize / length);

    /// <summary>
    /// True when <paramref name="array"/> (from <see cref="Rent"/>) was made by this pool: on the pinned object heap,
    /// never moved by the GC.
    /// </summary>
    public static bool IsPinned(byte[] array) => array.Length <= MaxPooledLength;

    /// <summary>An array of at least <paramref name="minimumLength"/> bytes.</summary>
    public static byte[] Rent(int minimumLength)
    {
        if (minimumLength > MaxPooledLength)
        {
            return ArrayPool<byte>.Shared.Rent(minimumLength);
        }
        int size = minimumLength <= MinPooledLength ? MinPooledLength : (int)BitOperations.RoundUpToPowerOf2((uint)minimumLength);
        Stack stack = Stacks[BitOperations.Log2((uint)size) - MinShift];
        return stack.Count > 0 ? stack.Pop() : GC.AllocateUninitializedArray<byte>(size, pinned: true);
    }

    /// <summary>Gives back an array from <see cref="Rent"/>.</summary>
    public static void Return(byte[] array)
    {
        if (array.Length > MaxPooledLength)
        {
            ArrayPool<byte>.Shared.Return(array);
            return;
        }
        if (array.Length >= MinPooledLength && BitOperations.IsPow2(array.Length))
        {
            Stacks[BitOperations.Log2((uint)array.Length) - MinShift].Push(array); // a full stack drops it
        }
    }

    private static Stack[] Stacks => s_stacks ?? CreateStacks();

    private static Stack[] CreateStacks()
    {
        var stacks = new Stack[Sizes];
        for (int i = 0; i < Sizes; i++)
        {
            stacks[i] = new Stack(ArraysPerSize(MinPooledLength << i));
        }
        return s_stacks = stacks;
    }

    /// <summary>One size's arrays: grows with use up to its bound, so a thread that never holds many costs little.</summary>
    private sealed class Stack(int bound)
    {
        private byte[][] _arrays = new byte[8][];

        public int Count { get; private set; }

        public byte[] Pop()
        {
            byte[] array = _arrays[--Count];
            _arrays[Count] = null!;
            return array;
        }

        public void Push(byte[] array)
        {
            if (Count == _arrays.Length)
            {
                if (Count == bound)
                {
                    return;
                }
                Array.Resize(ref _arrays, Math.Min(bound, Count * 2));
            }
            _arrays[Count++] = array;
        }
    }
}
