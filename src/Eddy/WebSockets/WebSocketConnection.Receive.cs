using System.Net.WebSockets;
using Eddy.Http.Internal;
using Eddy.Loop;
using Eddy.Loop.Internal;
using Eddy.WebSockets.Internal;

namespace Eddy.WebSockets;

// Receiving: the decoder runs over the transport's span when nothing waits in _input (the payload is unmasked
// straight into the pending receive's buffer: one copy), else over _input. Control frames are handled where they
// are decoded (a pong goes out at once); data stops the decoder until a receive gives it somewhere to go, and what
// waits behind it is bounded (UpdateReading). A receive completes inline, inside the read that brought its bytes;
// the handler continues there, and its next ReceiveAsync only registers itself (_processing) for the same loop.
public sealed partial class WebSocketConnection
{
    [ThreadStatic]
    private static byte[]? s_discard;   // where data nobody will read is decoded to (loop thread's own)

    /// <summary>
    /// Receives the next piece of a message into <paramref name="buffer"/>: its count, its type (Text or Binary; Close
    /// once the peer's close frame came, with <see cref="CloseStatus"/> set), and whether the message ended with it.
    /// A piece never holds bytes of two messages; a text message is valid UTF-8 as a whole (checked as it comes, and
    /// the connection fails with 1007 at the first invalid byte). Completes as soon as some of the message is in.
    /// <para>
    /// An empty <paramref name="buffer"/> waits until a message has bytes to give (or ends, or the close comes) and
    /// takes none: count 0, the message's type. So an idle connection need hold no buffer — rent one when this returns.
    /// </para>
    /// </summary>
    public ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_receive.IsPending)
        {
            throw new InvalidOperationException("A receive is already pending on this WebSocket; await it before receiving again.");
        }
        switch (_state)
        {
            case WebSocketState.Aborted:
                return ValueTask.FromException<ValueWebSocketReceiveResult>(_failure!);
            case WebSocketState.Closed:
                return new ValueTask<ValueWebSocketReceiveResult>(new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, true));
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ValueWebSocketReceiveResult>(cancellationToken);
        }
        _receiveBuffer = buffer;
        _receiveWritten = 0;
        short token = _receive.Start(cancellationToken);
        if (!_processing)
        {
            ProcessInput();
            UpdateReading();
        }
        return new ValueTask<ValueWebSocketReceiveResult>(_receive, token);
    }

    /// <summary>Decodes what waits in <c>_input</c>.</summary>
    private void ProcessInput()
    {
        if (!_input.IsEmpty)
        {
            int consumed = Process(_input.Span);
            if (_state is WebSocketState.Closed or WebSocketState.Aborted)
            {
                _input.Release();
            }
            else
            {
                _input.Consume(consumed);
                if (_input.IsEmpty)
                {
                    _input.Release();
                }
            }
        }
        CheckPeerGone();
    }

    /// <summary>The peer sent its FIN and everything before it is decoded, without a close frame: the connection ends (1006).</summary>
    private void CheckPeerGone()
    {
        if (_peerEof && _input.IsEmpty && !_processing && _state is WebSocketState.Open or WebSocketState.CloseSent)
        {
            SetFailed(new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The peer closed the connection without a close frame."));
            FlushBatch();
            _transport.Close();
        }
    }

    /// <summary>
    /// Decodes <paramref name="source"/> as far as it can go: into the pending receive, handling control frames on the
    /// way, until the input ends, data has nowhere to go, or the connection closes. Returns how much it consumed.
    /// </summary>
    private int Process(ReadOnlySpan<byte> source)
    {
        _processing = true;
        int offset = 0;
        try
        {
            while (_state is WebSocketState.Open or WebSocketState.CloseSent)
            {
                bool receiving = _receive.IsPending;
                bool discarding = !receiving && (_handlerEnded || _state == WebSocketState.CloseSent);
                Span<byte> destination = receiving ? _receiveBuffer.Span[_receiveWritten..] : discarding ? Discard() : default;
                DecodeStatus status = _decoder.Decode(source[offset..], destination, receiving || discarding, out int consumed, out int written);
                offset += consumed;
                switch (status)
                {
                    case DecodeStatus.NeedMoreInput:
                        if (receiving && _receiveWritten > 0)
                        {
                            CompleteReceive(endOfMessage: false); // part of a message: give what there is
                        }
                        return offset;
                    case DecodeStatus.NeedDestination:
                        if (receiving && (_receiveWritten > 0 || _receiveBuffer.IsEmpty))
                        {
                            CompleteReceive(endOfMessage: false); // the buffer is full (or a zero-byte receive: data is here)
                            if (_receive.IsPending)
                            {
                                continue; // the handler continued inline and asked for more
                            }
                        }
                        return offset;
                    case DecodeStatus.Data:
                        _lastActivity = _heartbeat.Now;
                        if (receiving)
                        {
                            _receiveWritten += written;
                            if (_decoder.IsEndOfMessage || _receiveWritten == _receiveBuffer.Length)
                            {
                                CompleteReceive(_decoder.IsEndOfMessage);
                                if (!_receive.IsPending)
                                {
                                    // The handler has not seen this yet (its continuation runs after ReceiveAsync returns, or
                                    // it is busy elsewhere): decode nothing more — not even a close or an error — until it asks
                                    // again, so what it does with the message does not depend on how the bytes were split.
                                    return offset;
                                }
                            }
                        }
                        continue;
                    case DecodeStatus.Ping:
                        if (_state == WebSocketState.Open)
                        {
                            WriteFrame(WebSocketOpcode.Pong, fin: true, _decoder.ControlPayload); // §5.5.2: "as soon as is practical"
                        }
                        continue;
                    case DecodeStatus.Pong:
                        _pingOutstanding = false;
                        continue;
                    case DecodeStatus.Close:
                        OnCloseReceived(_decoder.CloseStatus, _decoder.CloseReason);
                        return offset;
                    default:
                        FailConnection(_decoder.ErrorStatus, _decoder.ErrorMessage);
                        return offset;
                }
            }
            return offset;
        }
        finally
        {
            _processing = false;
            if (_lost)
            {
                ReleaseCompression(); // the connection was lost while this decoded
            }
        }
    }

    private static Span<byte> Discard() => s_discard ??= new byte[16 * 1024];

    private void CompleteReceive(bool endOfMessage)
    {
        int count = _receiveWritten;
        _receiveBuffer = default;
        _receiveWritten = 0;
        _receive.SetResult(new ValueWebSocketReceiveResult(count, _decoder.MessageType, endOfMessage));
    }

    /// <summary>
    /// The peer's close frame (§5.5.1): answered with ours (echoing its code) unless ours went first, then the
    /// server closes the TCP connection (§7.1.1: the server closes first). A pending receive gets Close.
    /// </summary>
    private void OnCloseReceived(WebSocketCloseStatus status, string reason)
    {
        CloseStatus = status;
        CloseStatusDescription = reason;
        if (_state == WebSocketState.Open)
        {
            WriteClose(status, null);
        }
        _state = WebSocketState.Closed;
        if (_receive.IsPending)
        {
            _receiveBuffer = default;
            _receiveWritten = 0;
            _receive.SetResult(new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, true));
        }
        _drain.TryFail(new WebSocketException(WebSocketError.InvalidState, "The WebSocket was closed by the peer."));
        _closed?.TrySetResult();
        FlushBatch(); // our close frame first
        _transport.Close();
    }

    /// <summary>
    /// Fails the connection (§7.1.7) for the peer's error: our close frame with <paramref name="status"/>, then
    /// our FIN; what the peer still sends is read and dropped until its EOF or the close timeout, so that its
    /// unread bytes do not make our kernel reset the connection before our close frame reached it.
    /// </summary>
    private void FailConnection(WebSocketCloseStatus status, string message)
    {
        if (_state == WebSocketState.Open)
        {
            WriteClose(status, message);
        }
        SetFailed(new WebSocketException(WebSocketError.Faulted, $"The peer broke the protocol ({(int)status}): {message}"));
        FlushBatch(); // our close frame first
        if (_peerEof || !_transport.CanWriteEof)
        {
            _transport.Close();
            return;
        }
        _lingering = true;
        _closeDeadline = CloseDeadline();
        _transport.WriteEof();
        if (!_transport.IsReading)
        {
            _readingPaused = false;
            _transport.ResumeReading();
        }
    }

    /// <summary>When the close handshake (or a failed connection's lingering) must be over: one beat late at most, never early.</summary>
    private long CloseDeadline() => _heartbeat.Now + _options.CloseTimeout.Ticks + HttpHeartbeat.Interval.Ticks;

    /// <summary>The one waiting receive: a cancelled one keeps what it already received (a partial result), else fails.</summary>
    private sealed class ReceiveOperation(WebSocketConnection owner) : CancellableOperation<ValueWebSocketReceiveResult>(owner._loop)
    {
        protected override void OnCancelled()
        {
            if (owner._receiveWritten > 0)
            {
                owner.CompleteReceive(endOfMessage: false); // cancelling loses no bytes
                return;
            }
            owner._receiveBuffer = default;
            SetException(new OperationCanceledException(Token));
        }
    }

    private sealed class DrainOperation(EventLoop loop) : LoopValueTaskSource<bool>(loop)
    {
        public short Start() => Prepare();

        public void TryComplete()
        {
            if (IsPending)
            {
                Complete(true);
            }
        }

        public void TryFail(Exception error)
        {
            if (IsPending)
            {
                Fail(error);
            }
        }
    }
}
