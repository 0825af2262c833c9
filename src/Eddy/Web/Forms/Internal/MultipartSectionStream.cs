namespace Eddy.Web.Forms.Internal;

/// <summary>A part's content as a read-only <see cref="Stream"/> over its <see cref="MultipartReader"/>; synchronous reads are refused (they would block the loop).</summary>
internal sealed class MultipartSectionStream(MultipartReader reader) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException("A part's length is known only at its end.");

    public override long Position
    {
        get => throw new NotSupportedException("A part cannot seek.");
        set => throw new NotSupportedException("A part cannot seek.");
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        reader.ReadPartAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("A synchronous read of a multipart part would block the event loop: use ReadAsync.");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A part cannot seek.");

    public override void SetLength(long value) => throw new NotSupportedException("A part is read-only.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("A part is read-only.");
}
