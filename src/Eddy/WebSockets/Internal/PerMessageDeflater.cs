using System.IO.Compression;

namespace Eddy.WebSockets.Internal;

/// <summary>
/// The sending half of permessage-deflate (RFC 7692 §7.2.1), with the platform's zlib: a message's pieces go through
/// one <see cref="DeflateStream"/>, each flushed (<c>Z_SYNC_FLUSH</c>, so it ends on a byte boundary with the marker
/// <c>00 00 FF FF</c>) into a per-loop-thread buffer the caller frames and writes at once. The marker of each flush is
/// held back and put before the next piece's bytes, so the message's last frame ends without it, as §7.2.1 says —
/// whether or not the last piece had bytes. The stream is kept across messages (the peer's window still holds our
/// earlier bytes) unless no context takeover was agreed, or the peer's window is smaller than zlib's: then only whole
/// messages that fit that window are compressed, each with a fresh stream, so no back-reference can reach past it.
/// </summary>
internal sealed class PerMessageDeflater : IDisposable
{
    private static ReadOnlySpan<byte> Marker => [0x00, 0x00, 0xFF, 0xFF];

    [ThreadStatic]
    private static OutputBuffer? s_output;  // the loop thread's: a piece is compressed, framed and written before any other

    private readonly CompressionLevel _level;
    private readonly bool _freshPerMessage;
    private readonly int _windowBits;
    private readonly int _threshold;
    private DeflateStream? _deflate;
    private OutputBuffer? _output;          // the buffer _deflate writes to (the thread's)
    private bool _markerHeld;               // the previous piece's flush marker is not sent yet
    private long _messageBytes;             // compressed bytes of the current message given out so far

    public PerMessageDeflater(DeflateParameters parameters, WebSocketCompressionOptions options)
    {
        _level = options.Level;
        _freshPerMessage = parameters.SendNoContextTakeover || parameters.SendWindowBits < DeflateParameters.MaxWindowBits;
        _windowBits = parameters.SendWindowBits;
        _threshold = options.Threshold;
    }

    /// <summary>Whether a message whose first piece is <paramref name="length"/> bytes (and the whole message when <paramref name="endOfMessage"/>) goes compressed.</summary>
    public bool ShouldCompress(int length, bool endOfMessage)
    {
        if (_windowBits < DeflateParameters.MaxWindowBits)
        {
            return endOfMessage && length > 0 && length >= _threshold && length <= 1 << _windowBits;
        }
        return !endOfMessage || (length > 0 && length >= _threshold);
    }

    /// <summary>
    /// Compresses one piece of the current compressed message; the bytes to send as its frame's payload, valid until
    /// the next call on this thread.
    /// </summary>
    public ReadOnlySpan<byte> Compress(ReadOnlySpan<byte> data, bool endOfMessage)
    {
        OutputBuffer output = s_output ??= new OutputBuffer();
        if (_deflate is not null && !ReferenceEquals(_output, output))
        {
            throw new InvalidOperationException("A WebSocket's compressor is used on one loop thread only.");
        }
        output.Reset();
        if (_markerHeld)
        {
            output.Write(Marker);
        }
        if (_deflate is null)
        {
            _deflate = new DeflateStream(output, _level, leaveOpen: true);
            _output = output;
        }
        if (!data.IsEmpty)
        {
            _deflate.Write(data);
            _deflate.Flush(); // Z_SYNC_FLUSH: everything so far, ending in the marker
        }
        int length = (int)output.Length;
        _markerHeld = length >= Marker.Length && output.Written[(length - Marker.Length)..].SequenceEqual(Marker);
        if (_markerHeld)
        {
            length -= Marker.Length;
        }
        if (endOfMessage)
        {
            if (_messageBytes + length == 0)
            {
                // Nothing came out for the whole message (it was empty): one empty stored block's first byte, which the
                // marker the receiver appends completes (§7.2.3.6). An empty payload would not be valid DEFLATE.
                output.Reset();
                output.WriteByte(0x00);
                length = 1;
            }
            _markerHeld = false;
            _messageBytes = 0;
            if (_freshPerMessage)
            {
                _deflate.Dispose(); // its final block goes to the buffer, past what is returned
                _deflate = null;
            }
        }
        else
        {
            _messageBytes += length;
        }
        return output.Written[..length];
    }

    public void Dispose()
    {
        _deflate?.Dispose();
        _deflate = null;
    }

    /// <summary>A write-only stream into a growable array: what the compressor produced for one piece.</summary>
    private sealed class OutputBuffer : Stream
    {
        private byte[] _buffer = new byte[16 * 1024];
        private int _length;

        public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position
        {
            get => _length;
            set => throw new NotSupportedException();
        }

        public void Reset() => _length = 0;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_buffer.Length - _length < buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + buffer.Length));
            }
            buffer.CopyTo(_buffer.AsSpan(_length));
            _length += buffer.Length;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void WriteByte(byte value) => Write([value]);

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
