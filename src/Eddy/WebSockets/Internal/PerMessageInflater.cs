using System.IO.Compression;

namespace Eddy.WebSockets.Internal;

/// <summary>
/// The receiving half of permessage-deflate (RFC 7692 §7.2.2), with the platform's zlib: a compressed message's
/// payload is fed in as it is unmasked (<see cref="InputSpace"/>, <see cref="Fed"/>), the marker <c>00 00 FF FF</c>
/// after its last frame (<see cref="EndMessage"/>), and <see cref="Inflate"/> gives the message's bytes a buffer at
/// a time. The <see cref="DeflateStream"/> lives across messages (the peer's back-references may reach into earlier
/// ones) unless the peer agreed to start afresh; a peer that ends its stream with a final block (BFINAL, which §7.2.3
/// allows) gets a fresh one for its next message.
/// </summary>
internal sealed class PerMessageInflater : IDisposable
{
    private static ReadOnlySpan<byte> Marker => [0x00, 0x00, 0xFF, 0xFF];

    private readonly bool _freshPerMessage;
    private readonly Feed _feed = new();
    private DeflateStream? _inflate;
    private bool _streamEnded;      // the peer's stream ended (BFINAL): what else comes in this message is dropped

    public PerMessageInflater(bool freshPerMessage) => _freshPerMessage = freshPerMessage;

    /// <summary>Where to put the next compressed bytes; empty while fed bytes wait to be inflated.</summary>
    public Span<byte> InputSpace => _feed.Space;

    /// <summary><paramref name="count"/> bytes were put in <see cref="InputSpace"/>.</summary>
    public void Fed(int count)
    {
        if (_streamEnded)
        {
            _feed.Clear(); // past the end of the peer's stream: nothing to inflate
            return;
        }
        _feed.Added(count);
    }

    /// <summary>The message's last frame is in: the marker the sender removed goes after it (§7.2.2).</summary>
    public void EndMessage()
    {
        Marker.CopyTo(_feed.Space);
        Fed(Marker.Length);
    }

    /// <summary>
    /// Inflates into <paramref name="destination"/> (not empty); 0 means everything fed so far is inflated — feed more,
    /// or, after <see cref="EndMessage"/>, the message is complete. Throws <see cref="InvalidDataException"/> for bytes
    /// that are not DEFLATE.
    /// </summary>
    public int Inflate(Span<byte> destination)
    {
        if (_streamEnded)
        {
            return 0;
        }
        _inflate ??= new DeflateStream(_feed, CompressionMode.Decompress, leaveOpen: true);
        _feed.RanDry = false;
        int n = _inflate.Read(destination);
        if (n == 0 && !_feed.RanDry)
        {
            // It gave nothing and did not ask for input: its stream ended with a final block.
            _streamEnded = true;
            _feed.Clear();
        }
        return n;
    }

    /// <summary>The message is complete: a fresh stream for the next one if the peer starts afresh or ended its stream.</summary>
    public void MessageDone()
    {
        if (_freshPerMessage || _streamEnded)
        {
            Dispose();
        }
        _streamEnded = false;
    }

    public void Dispose()
    {
        _inflate?.Dispose();
        _inflate = null;
        _feed.Clear();
    }

    /// <summary>The stream the inflater reads: the compressed bytes fed and not yet taken.</summary>
    private sealed class Feed : Stream
    {
        private readonly byte[] _buffer = new byte[8 * 1024];
        private int _start;
        private int _end;

        /// <summary>A read found nothing left (the inflater wants more input).</summary>
        public bool RanDry { get; set; }

        public Span<byte> Space => _start == _end ? _buffer.AsSpan(_start = _end = 0) : _buffer.AsSpan(_end, 0);

        public void Added(int count) => _end += count;

        public void Clear() => _start = _end = 0;

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(buffer.Length, _end - _start);
            if (n == 0)
            {
                RanDry = true;
                return 0;
            }
            _buffer.AsSpan(_start, n).CopyTo(buffer);
            _start += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
