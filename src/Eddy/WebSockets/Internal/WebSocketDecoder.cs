using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;

namespace Eddy.WebSockets.Internal;

/// <summary>What <see cref="WebSocketDecoder.Decode"/> has to report.</summary>
internal enum DecodeStatus : byte
{
    /// <summary>All the input was taken and there is nothing to report: give more bytes.</summary>
    NeedMoreInput,

    /// <summary>A data payload is next, and the caller gave no room or may not take data now: nothing was consumed past it.</summary>
    NeedDestination,

    /// <summary>Payload bytes of the current message were written (perhaps none, at its end): see <see cref="WebSocketDecoder.IsEndOfMessage"/>.</summary>
    Data,

    /// <summary>A ping arrived; its payload is <see cref="WebSocketDecoder.ControlPayload"/>.</summary>
    Ping,

    /// <summary>A pong arrived; its payload is <see cref="WebSocketDecoder.ControlPayload"/>.</summary>
    Pong,

    /// <summary>A valid close frame arrived: <see cref="WebSocketDecoder.CloseStatus"/> and <see cref="WebSocketDecoder.CloseReason"/>.</summary>
    Close,

    /// <summary>The peer broke the protocol: fail the connection with <see cref="WebSocketDecoder.ErrorStatus"/>. Final.</summary>
    Error,
}

/// <summary>
/// The receiving half of RFC 6455's framing, sans I/O: bytes in, messages and control frames out. It owns
/// all the state between reads — a frame header cut by a read's end is kept inside (at most 14 bytes), and
/// so is a control frame's payload (at most 125) — so the caller never keeps raw bytes for it, and the
/// result does not depend on how the bytes were split (property-tested). Data payloads are unmasked
/// straight into the caller's buffer. Every rule of §5 is checked as soon as the bytes that break it are in
/// (§5.1 masking by role, §5.2 reserved bits and opcodes, §5.4 fragmentation, §5.5 control frames, §5.2
/// minimal lengths, §5.5.1 close payloads, §8.1 UTF-8) and so are the size limits (1009 as soon as a
/// header declares too much). With permessage-deflate (RFC 7692) agreed, a message whose first frame has RSV1
/// set is inflated on its way to the caller's buffer (<see cref="PerMessageInflater"/>), and the limits and the UTF-8
/// check apply to the inflated bytes.
/// <para>Call <see cref="Decode"/> until it reports something; after <see cref="DecodeStatus.Error"/> it reports nothing else.</para>
/// </summary>
internal sealed class WebSocketDecoder
{
    private readonly bool _expectMasked;        // set once: a server reads masked frames, a client unmasked ones
    private readonly PerMessageInflater? _inflater; // set once: permessage-deflate was agreed
    private HeaderBytes _header;                // a header cut by the end of a read
    private int _headerLength;
    private ControlBytes _control;              // the payload of the control frame being read
    private int _controlLength;

    // The frame being read (after its header).
    private bool _inPayload;
    private bool _fin;
    private WebSocketOpcode _opcode;
    private long _remaining;
    private bool _masked;
    private uint _mask;
    private int _maskOffset;

    // The data message being read.
    private bool _inMessage;                    // a data message has started and not ended
    private long _messageLength;
    private Utf8Validator _utf8;
    private bool _compressed;                   // the message's first frame had RSV1: its payload is DEFLATE
    private bool _markerFed;                    // its last frame is in and the marker was fed after it
    private long _inflatedLength;

    public WebSocketDecoder(bool isServer, long maxMessageSize = long.MaxValue, long maxFrameSize = long.MaxValue, PerMessageInflater? inflater = null)
    {
        _expectMasked = isServer;
        _inflater = inflater;
        MaxMessageSize = maxMessageSize;
        MaxFrameSize = maxFrameSize;
    }

    /// <summary>A message declared longer than this fails with 1009 (Message Too Big) at the header that passes it.</summary>
    public long MaxMessageSize { get; set; }

    /// <summary>A frame declared longer than this fails with 1009 at its header.</summary>
    public long MaxFrameSize { get; set; }

    /// <summary>The type of the current data message (Text or Binary).</summary>
    public WebSocketMessageType MessageType { get; private set; }

    /// <summary>After <see cref="DecodeStatus.Data"/>: the message ended with these bytes.</summary>
    public bool IsEndOfMessage { get; private set; }

    /// <summary>True between the first frame of a data message and its last.</summary>
    public bool IsInMessage => _inMessage;

    /// <summary>After Ping, Pong or Close: the control frame's payload (valid until the next call).</summary>
    public ReadOnlySpan<byte> ControlPayload => ((ReadOnlySpan<byte>)_control)[.._controlLength];

    /// <summary>After Close: the code, or <see cref="WebSocketCloseStatus.Empty"/> (1005) for a close without one.</summary>
    public WebSocketCloseStatus CloseStatus { get; private set; }

    /// <summary>After Close: the reason (empty when none).</summary>
    public string CloseReason { get; private set; } = "";

    /// <summary>After Error: the close code to fail the connection with (1002, 1007 or 1009).</summary>
    public WebSocketCloseStatus ErrorStatus { get; private set; }

    /// <summary>After Error: what was wrong, for the close reason and the exception.</summary>
    public string ErrorMessage { get; private set; } = "";

    /// <summary>
    /// Decodes from <paramref name="input"/> until there is something to report. Data payload bytes go into
    /// <paramref name="destination"/>, and only when <paramref name="acceptData"/>; otherwise decoding stops
    /// before them (<see cref="DecodeStatus.NeedDestination"/>), with control frames before them handled.
    /// </summary>
    public DecodeStatus Decode(ReadOnlySpan<byte> input, Span<byte> destination, bool acceptData, out int consumed, out int written)
    {
        consumed = 0;
        written = 0;
        if (ErrorStatus != 0)
        {
            return DecodeStatus.Error;
        }
        while (true)
        {
            if (!_inPayload)
            {
                int taken = TakeHeader(input[consumed..], out bool complete);
                consumed += taken;
                if (ErrorStatus != 0)
                {
                    return DecodeStatus.Error;
                }
                if (!complete)
                {
                    return DecodeStatus.NeedMoreInput;
                }
            }
            if (_opcode >= WebSocketOpcode.Close)
            {
                int n = (int)Math.Min(_remaining, input.Length - consumed);
                if (n > 0)
                {
                    Span<byte> target = ((Span<byte>)_control).Slice(_controlLength, n);
                    _maskOffset = Unmask(input.Slice(consumed, n), target);
                    _controlLength += n;
                    _remaining -= n;
                    consumed += n;
                }
                if (_remaining > 0)
                {
                    return DecodeStatus.NeedMoreInput;
                }
                _inPayload = false;
                return ReportControl();
            }
            // A data frame's payload.
            if (_compressed)
            {
                if (DecodeCompressed(input, destination, acceptData, ref consumed, out written) is DecodeStatus report)
                {
                    return report;
                }
                continue; // the frame ended, not the message: the next frame
            }
            if (!acceptData || (destination.Length == 0 && _remaining > 0))
            {
                return DecodeStatus.NeedDestination;
            }
            int count = (int)Math.Min(Math.Min(_remaining, input.Length - consumed), destination.Length);
            if (count > 0)
            {
                Span<byte> target = destination[..count];
                _maskOffset = Unmask(input.Slice(consumed, count), target);
                consumed += count;
                _remaining -= count;
                written = count;
                if (!IsValidText(target))
                {
                    return Fail(WebSocketCloseStatus.InvalidPayloadData, "The text message is not valid UTF-8.");
                }
            }
            else if (_remaining > 0)
            {
                return DecodeStatus.NeedMoreInput; // no input left
            }
            if (_remaining == 0)
            {
                _inPayload = false;
                if (_fin)
                {
                    return EndOfMessage();
                }
                if (count == 0)
                {
                    continue; // an empty fragment: nothing to report, go on to the next frame
                }
            }
            IsEndOfMessage = false;
            return DecodeStatus.Data;
        }
    }

    /// <summary>
    /// A compressed message's payload: what is fed is inflated into <paramref name="destination"/> before more is fed,
    /// so at most one feed buffer of it is held. Null when the frame ended and the message goes on in the next one.
    /// </summary>
    private DecodeStatus? DecodeCompressed(ReadOnlySpan<byte> input, Span<byte> destination, bool acceptData, ref int consumed, out int written)
    {
        written = 0;
        if (!acceptData || destination.IsEmpty)
        {
            return DecodeStatus.NeedDestination;
        }
        while (true)
        {
            int n;
            try
            {
                n = _inflater!.Inflate(destination);
            }
            catch (InvalidDataException)
            {
                return Fail(WebSocketCloseStatus.InvalidPayloadData, "A compressed message is not valid DEFLATE.");
            }
            if (n > 0)
            {
                _inflatedLength += n;
                if (_inflatedLength > MaxMessageSize)
                {
                    return Fail(WebSocketCloseStatus.MessageTooBig, $"The message inflates past the limit of {MaxMessageSize} bytes.");
                }
                if (!IsValidText(destination[..n]))
                {
                    return Fail(WebSocketCloseStatus.InvalidPayloadData, "The text message is not valid UTF-8.");
                }
                written = n;
                IsEndOfMessage = false;
                return DecodeStatus.Data;
            }
            if (_remaining > 0)
            {
                Span<byte> space = _inflater.InputSpace; // all of it: what was fed is inflated
                int count = (int)Math.Min(Math.Min(_remaining, input.Length - consumed), space.Length);
                if (count == 0)
                {
                    return DecodeStatus.NeedMoreInput;
                }
                _maskOffset = Unmask(input.Slice(consumed, count), space[..count]);
                _inflater.Fed(count);
                consumed += count;
                _remaining -= count;
                continue;
            }
            if (!_fin)
            {
                _inPayload = false;
                return null;
            }
            if (!_markerFed)
            {
                _inflater.EndMessage();
                _markerFed = true;
                continue;
            }
            _inPayload = false;
            _inflater.MessageDone();
            return EndOfMessage();
        }
    }

    /// <summary>A message's next bytes (inflated, if it is compressed) are valid so far: always for binary; UTF-8 checked as it comes for text.</summary>
    private bool IsValidText(ReadOnlySpan<byte> bytes) => MessageType != WebSocketMessageType.Text || _utf8.TryAppend(bytes);

    /// <summary>The message's last bytes are in: reported, unless a text message ends inside a UTF-8 sequence.</summary>
    private DecodeStatus EndOfMessage()
    {
        if (MessageType == WebSocketMessageType.Text && !_utf8.IsComplete)
        {
            return Fail(WebSocketCloseStatus.InvalidPayloadData, "The text message ends inside a UTF-8 sequence.");
        }
        _inMessage = false;
        IsEndOfMessage = true;
        return DecodeStatus.Data;
    }

    /// <summary>Frees the inflater's zlib state (the connection ended).</summary>
    public void ReleaseCompression() => _inflater?.Dispose();

    private int Unmask(ReadOnlySpan<byte> source, Span<byte> target)
    {
        if (_masked)
        {
            return WebSocketMask.Apply(source, target, _mask, _maskOffset);
        }
        source.CopyTo(target);
        return 0;
    }

    /// <summary>
    /// Takes header bytes into <c>_header</c> until the header is whole, checking each rule as soon as its byte
    /// is in; returns how many bytes of <paramref name="input"/> it took.
    /// </summary>
    private int TakeHeader(ReadOnlySpan<byte> input, out bool complete)
    {
        complete = false;
        int taken = 0;
        Span<byte> header = _header;
        while (true)
        {
            int needed = HeaderLength(header[.._headerLength]);
            if (_headerLength == needed)
            {
                break;
            }
            if (taken == input.Length)
            {
                return taken;
            }
            int n = Math.Min(needed - _headerLength, input.Length - taken);
            input.Slice(taken, n).CopyTo(header[_headerLength..]);
            int before = _headerLength;
            _headerLength += n;
            taken += n;
            if (before < 1 && !CheckFirstByte(header[0]))
            {
                return taken;
            }
            if (before < 2 && _headerLength >= 2 && !CheckSecondByte(header[1]))
            {
                return taken;
            }
        }
        if (!BeginFrame(header[.._headerLength]))
        {
            return taken;
        }
        _headerLength = 0;
        complete = true;
        return taken;
    }

    /// <summary>How long the header is, as far as its bytes so far tell: 2 until the second byte is in.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HeaderLength(ReadOnlySpan<byte> header)
    {
        if (header.Length < 2)
        {
            return 2;
        }
        int length7 = header[1] & 0x7F;
        int length = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0);
        return (header[1] & 0x80) != 0 ? length + 4 : length;
    }

    private bool CheckFirstByte(byte b)
    {
        var opcode = (WebSocketOpcode)(b & 0x0F);
        int reserved = b & 0x70;
        if (reserved != 0)
        {
            if (reserved != 0x40 || _inflater is null)
            {
                return Error("A reserved bit is set, and no extension was negotiated that defines it."); // §5.2
            }
            if (opcode is not (WebSocketOpcode.Text or WebSocketOpcode.Binary))
            {
                return Error("RSV1 is set on a frame that does not start a data message."); // RFC 7692 §6.1
            }
        }
        bool fin = (b & 0x80) != 0;
        switch (opcode)
        {
            case WebSocketOpcode.Continuation:
                return _inMessage || Error("A continuation frame came with no message to continue."); // §5.4
            case WebSocketOpcode.Text or WebSocketOpcode.Binary:
                return !_inMessage || Error("A new data message started inside a fragmented one."); // §5.4
            case WebSocketOpcode.Close or WebSocketOpcode.Ping or WebSocketOpcode.Pong:
                return fin || Error("A control frame is fragmented."); // §5.5
            default:
                return Error($"Opcode {(int)opcode} is reserved."); // §5.2
        }
    }

    private bool CheckSecondByte(byte b)
    {
        bool masked = (b & 0x80) != 0;
        if (masked != _expectMasked)
        {
            return Error(_expectMasked ? "A client frame is not masked." : "A server frame is masked."); // §5.1
        }
        if ((_header[0] & 0x08) != 0 && (b & 0x7F) > 125)
        {
            return Error("A control frame's payload is longer than 125 bytes."); // §5.5
        }
        return true;
    }

    /// <summary>The header is whole: check its length and start reading its payload.</summary>
    private bool BeginFrame(ReadOnlySpan<byte> header)
    {
        int length7 = header[1] & 0x7F;
        long length;
        int at = 2;
        if (length7 == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);
            at = 4;
            if (length < 126)
            {
                return Error("A 16-bit payload length is not minimal."); // §5.2: "the minimal number of bytes MUST be used"
            }
        }
        else if (length7 == 127)
        {
            ulong wide = BinaryPrimitives.ReadUInt64BigEndian(header[2..]);
            at = 10;
            if ((wide >> 63) != 0)
            {
                return Error("A 64-bit payload length has its most significant bit set."); // §5.2
            }
            if (wide <= ushort.MaxValue)
            {
                return Error("A 64-bit payload length is not minimal.");
            }
            length = (long)wide;
        }
        else
        {
            length = length7;
        }
        var opcode = (WebSocketOpcode)(header[0] & 0x0F);
        _fin = (header[0] & 0x80) != 0;
        _opcode = opcode;
        _masked = (header[1] & 0x80) != 0;
        _mask = _masked ? WebSocketMask.ReadKey(header.Slice(at, 4)) : 0;
        _maskOffset = 0;
        _remaining = length;
        _inPayload = true;
        if (opcode >= WebSocketOpcode.Close)
        {
            _controlLength = 0;
            return true;
        }
        if (length > MaxFrameSize)
        {
            return Error(WebSocketCloseStatus.MessageTooBig, $"A frame of {length} bytes is over the limit of {MaxFrameSize}.");
        }
        if (opcode != WebSocketOpcode.Continuation)
        {
            _inMessage = true;
            _messageLength = 0;
            MessageType = opcode == WebSocketOpcode.Text ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
            _utf8.Reset();
            _compressed = (header[0] & 0x40) != 0;
            _markerFed = false;
            _inflatedLength = 0;
        }
        _messageLength += length;
        if (_messageLength > (_compressed ? CompressedLimit(MaxMessageSize) : MaxMessageSize))
        {
            return Error(WebSocketCloseStatus.MessageTooBig, $"The message is over the limit of {MaxMessageSize} bytes.");
        }
        return true;
    }

    /// <summary>
    /// How long a compressed message may be on the wire: DEFLATE of incompressible bytes is a little longer than they
    /// are (stored blocks: 5 bytes per 64 KiB, and a marker per flush), so the limit's inflated size plus an eighth.
    /// The exact check is on the inflated bytes as they come.
    /// </summary>
    private static long CompressedLimit(long maxMessageSize) =>
        maxMessageSize > long.MaxValue / 2 ? long.MaxValue : maxMessageSize + maxMessageSize / 8 + 1024;

    private DecodeStatus ReportControl()
    {
        switch (_opcode)
        {
            case WebSocketOpcode.Ping:
                return DecodeStatus.Ping;
            case WebSocketOpcode.Pong:
                return DecodeStatus.Pong;
        }
        // Close (§5.5.1): no payload, or a 2-byte code then a UTF-8 reason.
        ReadOnlySpan<byte> payload = ControlPayload;
        if (payload.Length == 0)
        {
            CloseStatus = WebSocketCloseStatus.Empty;
            CloseReason = "";
            return DecodeStatus.Close;
        }
        if (payload.Length == 1)
        {
            return Fail(WebSocketCloseStatus.ProtocolError, "A close frame's payload is 1 byte: half a status code.");
        }
        int code = BinaryPrimitives.ReadUInt16BigEndian(payload);
        if (!CloseCodes.IsValidOnTheWire(code))
        {
            return Fail(WebSocketCloseStatus.ProtocolError, $"Close code {code} is not one a peer may send.");
        }
        ReadOnlySpan<byte> reason = payload[2..];
        if (!Utf8.IsValid(reason))
        {
            return Fail(WebSocketCloseStatus.InvalidPayloadData, "A close reason is not valid UTF-8.");
        }
        CloseStatus = (WebSocketCloseStatus)code;
        CloseReason = reason.IsEmpty ? "" : Encoding.UTF8.GetString(reason);
        return DecodeStatus.Close;
    }

    private bool Error(string message) => Error(WebSocketCloseStatus.ProtocolError, message);

    private bool Error(WebSocketCloseStatus status, string message)
    {
        ErrorStatus = status;
        ErrorMessage = message;
        return false;
    }

    private DecodeStatus Fail(WebSocketCloseStatus status, string message)
    {
        Error(status, message);
        return DecodeStatus.Error;
    }

    [InlineArray(14)]
    private struct HeaderBytes
    {
        private byte _first;
    }

    [InlineArray(125)]
    private struct ControlBytes
    {
        private byte _first;
    }
}
