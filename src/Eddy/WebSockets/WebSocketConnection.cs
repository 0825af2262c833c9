using System.Net;
using System.Net.WebSockets;
using Eddy.Http.Internal;
using Eddy.Internal;
using Eddy.Loop;
using Eddy.Transports;
using Eddy.WebSockets.Internal;

namespace Eddy.WebSockets;

/// <summary>
/// One WebSocket connection (RFC 6455), on the loop of the transport it took over: receive messages into your
/// own buffer (<see cref="ReceiveAsync"/>), send them whole or in pieces (<see cref="SendTextAsync(string)"/>,
/// <see cref="SendBinaryAsync"/>, <see cref="SendAsync"/>), and close (<see cref="CloseAsync"/>). Pings are
/// answered for you, keep-alive pings find a dead peer, and every protocol error fails the connection with
/// the code RFC 6455 gives it (1002, 1007, 1009). For code written against the BCL's type,
/// <see cref="AsWebSocket"/> is a <see cref="WebSocket"/> over this one.
/// <para>
/// Loop thread only, as everything of a loop: the handler that accepted it runs there, and each await resumes
/// there. One receive and one send may be outstanding at a time. A receive in steady state allocates nothing:
/// the payload is unmasked straight from the socket's read into your buffer.
/// </para>
/// <para>States: <c>Open → (CloseSent →) Closed</c>, or <c>Aborted</c> when the connection failed or was cut.</para>
/// </summary>
public sealed partial class WebSocketConnection
{
    private static readonly Action<object?> s_onWritingResumed = static s => ((WebSocketConnection)s!).OnWritingResumed();

    private readonly EventLoop _loop;
    private readonly WebSocketOptions _options;
    private readonly HttpHeartbeat _heartbeat;
    private readonly bool _isServer;                // set once: a server reads masked frames and sends unmasked ones
    private readonly WebSocketDecoder _decoder;
    private readonly PerMessageDeflater? _deflater; // permessage-deflate was agreed: messages may go compressed
    private readonly ByteBuffer _input = new();     // received, waiting for a receive (bounded: see UpdateReading)
    private readonly ReceiveOperation _receive;
    private readonly DrainOperation _drain;
    private Transport _transport = null!;

    private WebSocketState _state = WebSocketState.Open;
    private Memory<byte> _receiveBuffer;            // the pending receive's buffer
    private int _receiveWritten;                    // bytes of it filled so far
    private bool _processing;                       // Process is on the stack: a receive only registers itself
    private bool _writingPaused;
    private bool _readingPaused;
    private bool _peerEof;
    private bool _lingering;                        // failed: our close and FIN are out, input is dropped until the peer's EOF
    private bool _handlerEnded;                     // nobody will receive again: data is read and dropped
    private bool _sendInMessage;                    // a message sent in pieces is not finished
    private WebSocketMessageType _sendType;
    private bool _sendCompressed;                   // the message being sent goes compressed (RSV1 on its first frame)
    private bool _lost;                             // the transport is gone: the codecs' zlib state is freed
    private bool _pingOutstanding;
    private long _pingSentAt;                       // heartbeat times (loop clock ticks)
    private long _lastReceived;
    private long _lastActivity;
    private long _closeDeadline;
    private TaskCompletionSource? _closed;          // CloseAsync's wait for the peer's close
    private WebSocketException? _failure;           // why the connection is Aborted: every later call throws it

    internal WebSocketConnection(EventLoop loop, WebSocketOptions options, HttpHeartbeat heartbeat, bool isServer, string? subProtocol,
        string? extensions = null, DeflateParameters? deflate = null)
    {
        _loop = loop;
        _options = options;
        _heartbeat = heartbeat;
        _isServer = isServer;
        SubProtocol = subProtocol;
        Extensions = extensions;
        PerMessageInflater? inflater = null;
        if (deflate is DeflateParameters agreed)
        {
            _deflater = new PerMessageDeflater(agreed, options.Compression ?? new WebSocketCompressionOptions());
            inflater = new PerMessageInflater(agreed.ReceiveNoContextTakeover);
        }
        _decoder = new WebSocketDecoder(isServer, options.MaxMessageSize ?? long.MaxValue, options.MaxFrameSize ?? long.MaxValue, inflater);
        _receive = new ReceiveOperation(this);
        _drain = new DrainOperation(loop);
        Protocol = new WebSocketProtocol(this);
    }

    /// <summary>The loop this connection runs on.</summary>
    public EventLoop Loop => _loop;

    /// <summary>The subprotocol agreed in the handshake, or null.</summary>
    public string? SubProtocol { get; }

    /// <summary>The extensions agreed in the handshake, as <c>Sec-WebSocket-Extensions</c> gave them (permessage-deflate and its parameters), or null.</summary>
    public string? Extensions { get; }

    /// <summary>Open, CloseSent (our close is out, the peer's is awaited), Closed, or Aborted.</summary>
    public WebSocketState State => _state;

    /// <summary>The code of the peer's close frame, once it came (<see cref="WebSocketCloseStatus.Empty"/> when it had none); else null.</summary>
    public WebSocketCloseStatus? CloseStatus { get; private set; }

    /// <summary>The reason in the peer's close frame, once it came; else null.</summary>
    public string? CloseStatusDescription { get; private set; }

    /// <summary>The peer's address.</summary>
    public EndPoint? RemoteEndPoint => _transport?.RemoteEndPoint;

    /// <summary>The transport's protocol: the callbacks that feed this connection.</summary>
    internal WebSocketProtocol Protocol { get; }

    /// <summary>A <see cref="WebSocket"/> over this connection, for code written against the BCL's type (same loop-thread rule).</summary>
    public WebSocket AsWebSocket() => _view ??= new LoopWebSocket(this);

    private LoopWebSocket? _view;

    /// <summary>Cuts the connection at once: no close handshake; pending operations fail.</summary>
    public void Abort()
    {
        if (ReferenceEquals(s_batchOwner, this))
        {
            s_batchLength = 0; // gathered frames of a connection being cut: dropped with it
        }
        if (_state is WebSocketState.Closed or WebSocketState.Aborted)
        {
            _transport?.Abort();
            return;
        }
        SetFailed(new WebSocketException(WebSocketError.InvalidState, "The WebSocket was aborted."));
        _transport?.Abort();
    }

    // ---- the transport's callbacks (through WebSocketProtocol) ----

    internal void OnConnectionMade(Transport transport)
    {
        _transport = transport;
        _writingPaused = transport.WriteBufferSize > transport.WriteBufferHighWaterMark;
        _heartbeat.Add(Protocol);
        _lastReceived = _lastActivity = _heartbeat.Now;
    }

    internal void OnDataReceived(ReadOnlySpan<byte> data)
    {
        _lastReceived = _heartbeat.Now;
        if (_state is WebSocketState.Closed or WebSocketState.Aborted)
        {
            return; // after the close handshake, or lingering after a failure: dropped
        }
        bool batching = BeginBatch(); // what the handler sends while this read is processed goes in one write
        try
        {
            if (_input.IsEmpty && !_processing)
            {
                int consumed = Process(data);
                if (consumed < data.Length && _state is WebSocketState.Open or WebSocketState.CloseSent)
                {
                    _input.Append(data[consumed..]);
                }
            }
            else
            {
                _input.Append(data);
                ProcessInput();
            }
            UpdateReading();
        }
        finally
        {
            if (batching)
            {
                EndBatch();
            }
        }
    }

    internal bool OnEofReceived()
    {
        _peerEof = true;
        if (_lingering || _state is WebSocketState.Closed or WebSocketState.Aborted)
        {
            _transport.Close();
            return true;
        }
        CheckPeerGone();
        return true; // the write side stays open for what is still to send (our close, perhaps)
    }

    internal void OnConnectionLost(Exception? error)
    {
        _heartbeat.Remove(Protocol);
        if (_state != WebSocketState.Closed)
        {
            SetFailed(new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The connection was lost without a close handshake.", error));
        }
        _drain.TryFail(_failure ?? new WebSocketException(WebSocketError.InvalidState, "The WebSocket is closed."));
        _closed?.TrySetResult();
        _lost = true;
        if (!_processing)
        {
            _input.Release();
            ReleaseCompression();
        }
    }

    /// <summary>Frees the compressor's and inflater's zlib state once the transport is gone (and nothing is decoding).</summary>
    private void ReleaseCompression()
    {
        _deflater?.Dispose();
        _decoder.ReleaseCompression();
    }

    internal void OnPauseWriting() => _writingPaused = true;

    internal void OnResumeWriting()
    {
        _writingPaused = false;
        // Called from inside the transport's flush: the waiting send continues in a callback of its own.
        _loop.CallSoon(s_onWritingResumed, this);
    }

    private void OnWritingResumed()
    {
        if (!_writingPaused)
        {
            _drain.TryComplete();
        }
    }

    /// <summary>The server is shutting down: close with 1001 (going away).</summary>
    internal void OnShutdownRequested()
    {
        if (_state == WebSocketState.Open)
        {
            StartClose(WebSocketCloseStatus.EndpointUnavailable, "The server is shutting down.");
        }
    }

    /// <summary>The handler that accepted this connection ended: close it if it is open (1011 if the handler threw).</summary>
    internal void OnHandlerCompleted(Exception? error)
    {
        _handlerEnded = true;
        bool networkWeather = _state is not WebSocketState.Open && error is WebSocketException or IOException or OperationCanceledException;
        if (error is not null && !networkWeather)
        {
            _loop.CallExceptionHandler(new LoopExceptionContext("Unhandled exception in a WebSocket handler", error, source: _transport));
        }
        if (_state == WebSocketState.Open)
        {
            StartClose(error is null ? WebSocketCloseStatus.NormalClosure : WebSocketCloseStatus.InternalServerError, null);
        }
        else if (!_processing && _state == WebSocketState.CloseSent)
        {
            ProcessInput(); // the peer's close may wait behind data nobody will read now
            UpdateReading();
        }
    }

    /// <summary>Once a second: keep-alive pings, the dead-peer and idle timeouts, the close handshake's deadline.</summary>
    internal void OnHeartbeat(long now)
    {
        if (_lingering || _state == WebSocketState.CloseSent)
        {
            if (now >= _closeDeadline)
            {
                _transport.Abort(); // the peer did not finish the close in time
            }
            return;
        }
        if (_state != WebSocketState.Open)
        {
            return;
        }
        if (_options.KeepAliveInterval > TimeSpan.Zero)
        {
            if (_pingOutstanding)
            {
                if (now - _pingSentAt >= _options.KeepAliveTimeout.Ticks)
                {
                    // A dead peer (or a dead path to it): it cannot take part in a close handshake. Say why, and cut.
                    WriteClose(WebSocketCloseStatus.InternalServerError, "keepalive ping timeout");
                    SetFailed(new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The peer did not answer a keep-alive ping in time."));
                    _transport.Abort();
                    return;
                }
            }
            else if (now - _lastReceived >= _options.KeepAliveInterval.Ticks)
            {
                Span<byte> payload = stackalloc byte[8];
                BitConverter.TryWriteBytes(payload, now);
                WriteFrame(WebSocketOpcode.Ping, fin: true, payload);
                _pingOutstanding = true;
                _pingSentAt = now;
            }
        }
        if (_options.IdleTimeout is TimeSpan idle && now - _lastActivity >= idle.Ticks)
        {
            StartClose(WebSocketCloseStatus.EndpointUnavailable, "idle timeout");
        }
    }

    /// <summary>Reads from the socket only while fewer than <see cref="WebSocketOptions.MaxReceiveBufferSize"/> bytes wait for a receive.</summary>
    private void UpdateReading()
    {
        if (_state is WebSocketState.Closed or WebSocketState.Aborted || _peerEof || _transport.IsClosing)
        {
            return;
        }
        bool read = _input.Length < _options.MaxReceiveBufferSize;
        if (read == !_readingPaused)
        {
            return;
        }
        _readingPaused = !read;
        if (read)
        {
            _transport.ResumeReading();
        }
        else
        {
            _transport.PauseReading();
        }
    }

    /// <summary>The connection failed or was cut: pending and later operations throw <paramref name="failure"/>.</summary>
    private void SetFailed(WebSocketException failure)
    {
        if (_state is WebSocketState.Closed or WebSocketState.Aborted)
        {
            return;
        }
        _state = WebSocketState.Aborted;
        _failure = failure;
        if (_receive.IsPending)
        {
            _receiveBuffer = default;
            _receive.SetException(failure);
        }
        _drain.TryFail(failure);
        _closed?.TrySetResult();
    }
}
