using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Eddy.Http;

// File bodies: sendfile(2) when the bytes go to the socket as they are, else read and written in pieces.
public sealed partial class HttpResponse
{
    private const int FilePieceSize = 64 * 1024;

    // One region handed to the transport at a time: the transport's write buffer counts it (an int), and the
    // handler's await between regions is where a slow client's back-pressure is felt.
    private const int MaxFileRegion = 16 * 1024 * 1024;

    /// <summary>
    /// Sends <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/> as (part of) the
    /// body. Before anything is sent, the body is started as by <see cref="BeginBody"/> with
    /// <paramref name="count"/>. On a plain TCP connection with the body sent as it is (no TLS, no response
    /// compression, a Content-Length body) the bytes go from the page cache to the socket with sendfile(2) and
    /// never pass through user space; otherwise they are read in 64 KiB pieces, each written before the next is
    /// read. Either way a slow client pauses the sending, not the loop. The handle may be disposed once the task
    /// completes. A file shorter than <paramref name="count"/> ends the response short and closes the connection
    /// (the client was promised the bytes).
    /// </summary>
    public async ValueTask SendFileAsync(SafeFileHandle file, long offset, long count)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ThrowIfDone();
        if (IsCompleted)
        {
            throw new InvalidOperationException("The response is complete; nothing more can be written.");
        }
        if (!HasStarted)
        {
            BeginBody(count);
        }
        if (IsHead || count == 0)
        {
            return;
        }
        if (IsChunked || IsCompressing || !_sink.CanSendFile)
        {
            await CopyFileAsync(file, offset, count);
            return;
        }
        if (count > _declaredRemaining)
        {
            throw new InvalidOperationException($"Sending {count} bytes would exceed the announced Content-Length ({_declaredRemaining} bytes left).");
        }
        while (count > 0)
        {
            int region = (int)Math.Min(count, MaxFileRegion);
            _declaredRemaining -= region;
            BodyBytes += region;
            await _sink.SendFileAsync(file, offset, region);
            offset += region;
            count -= region;
        }
    }

    /// <summary>The path without sendfile: read a piece, write it, wait for the client if it is slow, repeat.</summary>
    private async ValueTask CopyFileAsync(SafeFileHandle file, long offset, long count)
    {
        byte[] piece = ArrayPool<byte>.Shared.Rent((int)Math.Min(FilePieceSize, count));
        try
        {
            long end = offset + count;
            while (offset < end)
            {
                int n = RandomAccess.Read(file, piece.AsSpan(0, (int)Math.Min(piece.Length, end - offset)), offset);
                if (n == 0)
                {
                    break; // the file shrank meanwhile: CompleteStream sees the body short and closes the connection
                }
                offset += n;
                await WriteAsync(piece.AsMemory(0, n));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(piece);
        }
    }
}
