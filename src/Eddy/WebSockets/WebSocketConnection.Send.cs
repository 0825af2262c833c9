using System.Buffers;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Eddy.WebSockets.Internal;

namespace Eddy.WebSockets;

// Sending: a frame is written whole, at once (header and payload in one write through a per-loop scratch buffer up
// to 64 KiB); control frames can therefore go out between the frames of a message sent in pieces. While a read is
// being processed (OnDataReceived: the handler answers inline), the frames it causes are gathered in a per-loop
// batch and written with one Transport.Write at its end, so pipelined messages are answered with one send(2), as
// HTTP's pipelined responses are; anything that must follow them (a close, a FIN) flushes the batch first. The
// transport buffers what the socket does not take; while it holds more than its high-water mark, the send's task
// waits for it to drain (back-pressure on the sender).
public sealed partial class WebSocketConnection
{
    private const int ScratchSize = 64 * 1024;
    private const int BatchSize = 64 * 1024;

    [ThreadStatic]
    private static byte[]? s_scratch;   // the loop thread's: a frame is copied in and written out before any other

    [ThreadStatic]
    private static byte[]? s_batch;     // the loop thread's: frames gathered while one connection's read is processed

    [ThreadStatic]
    private static int s_batchLength;

    [ThreadStatic]
    private static WebSocketConnection? s_batchOwner;

    /// <summary>Starts gathering this connection's frames; false when another connection of this thread gathers already (ours then go straight out).</summary>
    private bool BeginBatch()
    {
        if (s_batchOwner is not null)
        {
            return false;
        }
        s_batchOwner = this;
        return true;
    }

    /// <summary>Writes what was gathered and stops gathering.</summary>
    private void EndBatch()
    {
        FlushBatch();
        s_batchOwner = null;
    }

    /// <summary>The gathered frames go to the transport now: before anything that must follow them (a larger write, a close, a FIN).</summary>
    private void FlushBatch()
    {
        if (ReferenceEquals(s_batchOwner, this) && s_batchLength > 0)
        {
            int length = s_batchLength;
            s_batchLength = 0;
            _transport.Write(s_batch.AsSpan(0, length));
        }
    }

    /// <summary>Bytes of frames, in order: gathered when this connection gathers and they fit, else written (after what was gathered).</summary>
    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (ReferenceEquals(s_batchOwner, this) && bytes.Length <= BatchSize)
        {
            byte[] batch = s_batch ??= new byte[BatchSize];
            if (bytes.Length > BatchSize - s_batchLength)
            {
                FlushBatch();
            }
            bytes.CopyTo(batch.AsSpan(s_batchLength));
            s_batchLength += bytes.Length;
            return;
        }
        FlushBatch();
        _transport.Write(bytes);
    }

    /// <summary>Sends <paramref name="text"/> as one text message (UTF-8).</summary>
    public ValueTask SendTextAsync(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int length = Encoding.UTF8.GetByteCount(text);
        if (length > ScratchSize - WebSocketFrameWriter.MaxHeaderLength || !_isServer || _deflater is not null)
        {
            return SendRentedAsync(text, length);
        }
        ThrowIfCannotSend(WebSocketMessageType.Text);
        ThrowIfInMessage();
        byte[] scratch = s_scratch ??= new byte[ScratchSize];
        int header = WebSocketFrameWriter.HeaderLength(length, masked: false);
        Encoding.UTF8.GetBytes(text, scratch.AsSpan(header));
        WebSocketFrameWriter.WriteHeader(scratch, WebSocketOpcode.Text, fin: true, length);
        Emit(scratch.AsSpan(0, header + length));
        return Sent(WebSocketMessageType.Text, endOfMessage: true);
    }

    private ValueTask SendRentedAsync(string text, int length)
    {
        ThrowIfInMessage();
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            int n = Encoding.UTF8.GetBytes(text, rented);
            return SendAsync(rented.AsMemory(0, n), WebSocketMessageType.Text, endOfMessage: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented); // the frame is in the transport (or sent) once SendAsync returns
        }
    }

    /// <summary>Sends <paramref name="utf8"/> (UTF-8, not checked) as one text message.</summary>
    public ValueTask SendTextAsync(ReadOnlyMemory<byte> utf8)
    {
        ThrowIfInMessage();
        return SendAsync(utf8, WebSocketMessageType.Text, endOfMessage: true);
    }

    /// <summary>Sends <paramref name="data"/> as one binary message.</summary>
    public ValueTask SendBinaryAsync(ReadOnlyMemory<byte> data)
    {
        ThrowIfInMessage();
        return SendAsync(data, WebSocketMessageType.Binary, endOfMessage: true);
    }

    private void ThrowIfInMessage()
    {
        if (_sendInMessage)
        {
            throw new InvalidOperationException("A message is being sent in pieces (SendAsync): finish it before sending a whole one.");
        }
    }

    /// <summary>
    /// Sends one piece of a message: the first piece starts a message of <paramref name="messageType"/> (Text or
    /// Binary), later ones continue it (same type) until one with <paramref name="endOfMessage"/>. So a message of any
    /// size goes out in pieces of your choosing; each piece is one frame. <paramref name="data"/> is copied or sent
    /// before this returns, so its memory is free again at once, even while the task waits. The task completes at once
    /// unless the peer reads slowly; then it waits until the transport's buffer drains (one send may wait at a time).
    /// </summary>
    /// <remarks>
    /// With permessage-deflate agreed, a whole message of at least <see cref="WebSocketCompressionOptions.Threshold"/>
    /// bytes, and every message sent in pieces, goes compressed; a compressed piece is one frame per 64 KiB of it.
    /// </remarks>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, bool endOfMessage = true) =>
        SendCoreAsync(data, messageType, endOfMessage, allowCompression: true);

    /// <summary><see cref="SendAsync(ReadOnlyMemory{byte}, WebSocketMessageType, bool)"/>; a message started with <paramref name="allowCompression"/> false goes uncompressed.</summary>
    internal ValueTask SendCoreAsync(ReadOnlyMemory<byte> data, WebSocketMessageType messageType, bool endOfMessage, bool allowCompression)
    {
        ThrowIfCannotSend(messageType);
        WebSocketOpcode opcode = _sendInMessage ? WebSocketOpcode.Continuation
            : messageType == WebSocketMessageType.Text ? WebSocketOpcode.Text : WebSocketOpcode.Binary;
        if (!_sendInMessage)
        {
            _sendCompressed = allowCompression && _deflater is not null && _deflater.ShouldCompress(data.Length, endOfMessage);
        }
        if (_sendCompressed)
        {
            WriteCompressed(opcode, endOfMessage, data.Span);
        }
        else
        {
            WriteFrame(opcode, endOfMessage, data.Span);
        }
        return Sent(messageType, endOfMessage);
    }

    /// <summary>
    /// A piece of a compressed message, deflated 64 KiB at a time, each slice's output one frame (RSV1 on the
    /// message's first, RFC 7692 §6.1), so what is compressed before it is written stays small whatever the piece.
    /// </summary>
    private void WriteCompressed(WebSocketOpcode opcode, bool endOfMessage, ReadOnlySpan<byte> data)
    {
        const int Slice = 64 * 1024;
        do
        {
            int n = Math.Min(Slice, data.Length);
            bool last = n == data.Length;
            ReadOnlySpan<byte> payload = _deflater!.Compress(data[..n], endOfMessage && last);
            WriteFrame(opcode, endOfMessage && last, payload, rsv1: opcode != WebSocketOpcode.Continuation);
            opcode = WebSocketOpcode.Continuation;
            data = data[n..];
        }
        while (!data.IsEmpty && _state == WebSocketState.Open);
    }

    private void ThrowIfCannotSend(WebSocketMessageType messageType)
    {
        if (messageType is not (WebSocketMessageType.Text or WebSocketMessageType.Binary))
        {
            throw new ArgumentException($"A message is Text or Binary, not {messageType} (use CloseAsync to close).", nameof(messageType));
        }
        if (_state == WebSocketState.Aborted)
        {
            throw _failure!;
        }
        if (_state != WebSocketState.Open)
        {
            throw new WebSocketException(WebSocketError.InvalidState, $"The WebSocket is {_state}: no message can be sent.");
        }
        if (_drain.IsPending)
        {
            throw new InvalidOperationException("A send is waiting for the peer to read; await it before sending again.");
        }
        if (_sendInMessage && messageType != _sendType)
        {
            throw new InvalidOperationException($"A {_sendType} message is being sent in pieces: finish it before a {messageType} one.");
        }
    }

    private ValueTask Sent(WebSocketMessageType messageType, bool endOfMessage)
    {
        _sendInMessage = !endOfMessage;
        _sendType = messageType;
        _lastActivity = _heartbeat.Now;
        if (!_writingPaused)
        {
            return default;
        }
        return new ValueTask(_drain, _drain.Start());
    }

    /// <summary>Writes one frame to the transport: header and payload in one write when they fit the scratch buffer.</summary>
    private void WriteFrame(WebSocketOpcode opcode, bool fin, ReadOnlySpan<byte> payload, bool rsv1 = false)
    {
        byte[] scratch = s_scratch ??= new byte[ScratchSize];
        uint? key = _isServer ? null : NewMaskKey();
        int header = WebSocketFrameWriter.WriteHeader(scratch, opcode, fin, payload.Length, key, rsv1);
        if (payload.Length <= ScratchSize - header)
        {
            Copy(payload, scratch.AsSpan(header), key, 0);
            Emit(scratch.AsSpan(0, header + payload.Length));
            return;
        }
        if (key is null)
        {
            Emit(scratch.AsSpan(0, header)); // a large payload: one more write rather than a large copy
            Emit(payload);
            return;
        }
        // A client's large payload is masked through the scratch buffer, a piece at a time.
        int offset = 0;
        int filled = header;
        while (offset < payload.Length)
        {
            int n = Math.Min(ScratchSize - filled, payload.Length - offset);
            Copy(payload.Slice(offset, n), scratch.AsSpan(filled), key, offset);
            Emit(scratch.AsSpan(0, filled + n));
            offset += n;
            filled = 0;
        }
    }

    private static void Copy(ReadOnlySpan<byte> payload, Span<byte> destination, uint? key, int offset)
    {
        if (key is uint mask)
        {
            WebSocketMask.Apply(payload, destination, mask, offset & 3);
        }
        else
        {
            payload.CopyTo(destination);
        }
    }

    /// <summary>A client's masking key: unpredictable, as RFC 6455 §5.3 requires (from the platform's CSPRNG).</summary>
    private static uint NewMaskKey()
    {
        Span<byte> key = stackalloc byte[4];
        RandomNumberGenerator.Fill(key);
        return WebSocketMask.ReadKey(key);
    }

    private void WriteClose(WebSocketCloseStatus status, string? reason)
    {
        Span<byte> payload = stackalloc byte[2 + WebSocketFrameWriter.MaxCloseReasonLength];
        int length = WebSocketFrameWriter.WriteClosePayload(payload, status, Truncate(reason));
        WriteFrame(WebSocketOpcode.Close, fin: true, payload[..length]);
    }

    /// <summary>A reason cut to fit a close frame (123 bytes of UTF-8), on a character boundary.</summary>
    private static string? Truncate(string? reason)
    {
        if (reason is null || Encoding.UTF8.GetByteCount(reason) <= WebSocketFrameWriter.MaxCloseReasonLength)
        {
            return reason;
        }
        int length = reason.Length;
        while (Encoding.UTF8.GetByteCount(reason.AsSpan(0, length)) > WebSocketFrameWriter.MaxCloseReasonLength)
        {
            length--;
        }
        if (length > 0 && char.IsHighSurrogate(reason[length - 1]))
        {
            length--;
        }
        return reason[..length];
    }

    /// <summary>
    /// Starts the close handshake (§7.1.2) and waits for it: our close frame with <paramref name="status"/> and
    /// <paramref name="reason"/> (at most 123 bytes of UTF-8), then the peer's; data that arrives meanwhile and no
    /// receive is waiting for is dropped. After <see cref="WebSocketOptions.CloseTimeout"/> without the peer's close,
    /// the connection is aborted. Completes at once when the connection is already closed.
    /// </summary>
    public ValueTask CloseAsync(WebSocketCloseStatus status = WebSocketCloseStatus.NormalClosure, string? reason = null)
    {
        if (status != WebSocketCloseStatus.Empty && !CloseCodes.IsValidOnTheWire((int)status))
        {
            throw new ArgumentOutOfRangeException(nameof(status), (int)status, "A close frame's code is 1000–1003, 1007–1014 or 3000–4999.");
        }
        if (reason is not null && Encoding.UTF8.GetByteCount(reason) > WebSocketFrameWriter.MaxCloseReasonLength)
        {
            throw new ArgumentException($"A close reason is at most {WebSocketFrameWriter.MaxCloseReasonLength} bytes of UTF-8.", nameof(reason));
        }
        if (status == WebSocketCloseStatus.Empty && !string.IsNullOrEmpty(reason))
        {
            throw new ArgumentException("A close frame without a code has no reason.", nameof(reason));
        }
        if (_state == WebSocketState.Open)
        {
            StartClose(status, reason);
        }
        if (_state != WebSocketState.CloseSent)
        {
            return default;
        }
        _closed ??= new TaskCompletionSource();
        return new ValueTask(_closed.Task);
    }

    /// <summary>Sends our close frame and arms the close timeout; the peer's close completes the handshake.</summary>
    internal void StartClose(WebSocketCloseStatus status, string? reason)
    {
        if (_state != WebSocketState.Open)
        {
            return;
        }
        WriteClose(status, reason);
        _state = WebSocketState.CloseSent;
        _closeDeadline = CloseDeadline();
        _drain.TryFail(new WebSocketException(WebSocketError.InvalidState, "The WebSocket is closing."));
        if (!_processing)
        {
            ProcessInput(); // the peer's close may already wait behind data
            UpdateReading();
        }
    }
}
