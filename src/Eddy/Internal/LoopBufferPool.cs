using System.Buffers;

namespace Eddy.Internal;

/// <summary>
/// The pool a thread's <see cref="ByteBuffer"/>s rent from: arrays up to <see cref="MaxPooledLength"/> from a pool of
/// that thread's own, larger ones from <see cref="ArrayPool{T}.Shared"/>.
/// <para>
/// Why not <see cref="ArrayPool{T}.Shared"/> for all: it keeps one array per size per thread and 32 per size per core.
/// A loop serving 64 uploads holds 64 input buffers of 64 KiB at once, beside the handlers' own 64 KiB read buffers
/// from the same shared pool, so most rents missed and allocated: ~26 KB of garbage per 1 MiB upload, and the
/// workstation GC let the heap grow by tens of MiB between collections (bench/upload.sh; issue 11). Every
/// <see cref="ByteBuffer"/> lives on one loop thread, so a pool per thread (Netty's per-thread caches are the model)
/// sees only its loop's connections and is sized for them.
/// </para>
/// <para>
/// What it keeps is bounded: at most <see cref="ArraysPerSize"/> arrays of each power-of-two size up to
/// <see cref="MaxPooledLength"/>, 8 MiB per thread at the very worst and, in practice, what the loop's busiest moment
/// held at once. An array returned on another thread than the one that rented it joins that thread's pool: harmless.
/// </para>
/// </summary>
internal static class LoopBufferPool
{
    /// <summary>The largest array kept per thread: an HTTP or WebSocket connection's input stops growing at 64 KiB of
    /// unread bytes (<c>MaxRequestBufferSize</c>).</summary>
    public const int MaxPooledLength = 64 * 1024;

    /// <summary>Arrays kept per size per thread: a loop's connections that hold a buffer of one size at the same moment.</summary>
    public const int ArraysPerSize = 64;

    [ThreadStatic]
    private static ArrayPool<byte>? s_threadPool;

    private static ArrayPool<byte> ThreadPool => s_threadPool ??= ArrayPool<byte>.Create(MaxPooledLength, ArraysPerSize);

    /// <summary>An array of at least <paramref name="minimumLength"/> bytes.</summary>
    public static byte[] Rent(int minimumLength) =>
        minimumLength <= MaxPooledLength ? ThreadPool.Rent(minimumLength) : ArrayPool<byte>.Shared.Rent(minimumLength);

    /// <summary>Gives back an array from <see cref="Rent"/>.</summary>
    public static void Return(byte[] array)
    {
        if (array.Length <= MaxPooledLength)
        {
            ThreadPool.Return(array);
        }
        else
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
