using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Eddy.Http.Parsing;
using Eddy.Http.Parsing.Internal;
using Eddy.Internal;
using Eddy.Loop;
using Eddy.Tls;
using Eddy.Transports;
using Microsoft.Win32.SafeHandles;

namespace Eddy.Http.Internal;

/// <summary>
/// One HTTP/1.1 connection: a <see cref="Protocol"/> that parses requests out of the bytes as they arrive,
/// runs the application for each as soon as its head is complete, lets it read the body as it arrives,
/// and writes the responses in request order. The concerns are split by file, as Kestrel's
/// <c>Http1Connection</c> / <c>Http1MessageBody</c> / <c>TimeoutControl</c>:
/// <list type="bullet">
/// <item>this file: the protocol callbacks and the request loop (<see cref="Pump"/>), input and flow control;</item>
/// <item><c>HttpConnection.Body.cs</c>: the request body, read through one <see cref="HttpBodyDecoder"/>, with
///   <c>100 Continue</c>, back-pressure, and dropping what a handler left unread;</item>
/// <item><c>HttpConnection.Handler.cs</c>: running the handler, and what a failure costs;</item>
/// <item><see cref="TimeoutControl"/> and <c>OnHeartbeat</c>: the timeouts, on the loop's clock.</item>
/// </list>
/// <para>
/// <b>Nothing is lost, whatever the split.</b> Every complete request before bad bytes is answered, in
/// order; then the error response (with <c>Connection: close</c>); then the close — a lingering one when the
/// client may still be sending, so that a reset does not destroy the answer in flight. Answers already made go
/// out before an error's, never in place of it, and no answer depends on where the reads were cut.
/// </para>
/// <para>
/// <b>Fast path.</b> Heads are parsed straight from the transport's span; requests without a body run there
/// and their responses collect in one buffer that leaves in one <see cref="Transport.Write"/> per read
/// (pipelining: one send per batch). Only what must wait is copied into <c>_input</c>: an incomplete head,
/// a body, requests behind a running handler. A handler that completes synchronously costs no allocation.
/// </para>
/// <para>
/// <b>Back-pressure.</b> While the handler runs, at most <see cref="HttpServerOptions.MaxRequestBufferSize"/>
/// received bytes wait (body it has not read, requests behind it), then reading stops; while the
/// transport's write buffer is above its high-water mark (the client is not reading), no further request is
/// handled.
/// </para>
/// <para>Loop thread only. States: <c>Head → Handler → (Drain →) Head …</c>, or <c>Closed</c>; or, from a handler that
/// accepts an upgrade, <c>Upgraded</c> (see <c>Upgrade</c>) until that handler ends, then <c>Closed</c>.</para>
/// </summary>
internal sealed partial class HttpConnection : Protocol, IResponseSink, IRequestBodySource, IHeartbeatClient, IConnectionUpgrader
{
    /// <summary>How long a lingering close waits for the client's EOF (nginx's <c>lingering_timeout</c>, 5 s).</summary>
    internal static readonly TimeSpan LingerTimeout = TimeSpan.FromSeconds(5);

    private enum State : byte
    {
        /// <summary>Waiting for, or parsing, the next head.</summary>
        Head,

        /// <summary>A handler runs; its body may still be arriving. Input waits in <c>_input</c>.</summary>
        Handler,

        /// <summary>The handler ended before its body did: the rest is read and dropped, then the next head.</summary>
        Drain,

        Closed,

        /// <summary>After a 101: the transport belongs to <c>_upgraded</c>; the handler that upgraded still runs.</summary>
        Upgraded,
    }

    private static readonly Action<object?> s_onWritingResumed = static s => ((HttpConnection)s!).OnWritingResumed();

    private readonly EventLoop _loop;
    private readonly RequestHandler _application;
    private readonly HttpServerOptions _options;
    private readonly HttpHeartbeat _heartbeat;
    private readonly HttpParser _parser;
    private readonly HttpRequest _request = new();
    private readonly HttpResponse _response;
    private readonly HttpContext _context;
    private readonly ResponseBuffer _output = new();
    private readonly ByteBuffer _input = new();      // received, not yet consumed (see the class summary)
    private readonly TimeoutControl _timeouts;
    private Transport _transport = null!;

    private State _state;
    private HttpRequestHead _head;
    private bool _readingPaused;
    private bool _writingPaused;
    private bool _peerClosed;           // EOF: no more input will come
    private bool _lingering;            // answered and closing: FIN sent, input dropped until the client's EOF
    private bool _shuttingDown;         // the server is shutting down: close after the exchange in flight
    private bool _pumping;              // Pump is on the stack: a nested call only asks it to go round again
    private bool _pumpAgain;
    private long _bytesWritten;         // handed to the transport; minus its write buffer = sent
    private TaskCompletionSource? _drained;
    private UpgradedProtocol? _upgraded;  // set in Upgrade, until the handler that upgraded ends

    public HttpConnection(EventLoop loop, RequestHandler application, HttpServerOptions options, HttpHeartbeat heartbeat, HttpMetrics? metrics = null)
    {
        _loop = loop;
        _metrics = metrics ?? HttpMetrics.Shared;
        _application = application;
        _options = options;
        _heartbeat = heartbeat;
        _parser = new HttpParser(options.ParserLimits);
        _body = new HttpBodyDecoder(options.ParserLimits);
        _timeouts = new TimeoutControl(heartbeat, options);
        _response = new HttpResponse(_output, this);
        _context = new HttpContext(loop, _request, _response, this, options.Services);
        _request.BodySource = this;
        _request.BodyStream = new HttpRequestBody(this);
    }

    public override void ConnectionMade(Transport transport)
    {
        _transport = transport;
        _request.RemoteEndPoint = transport.RemoteEndPoint;
        _request.Tls = transport as TlsTransport;
        _heartbeat.Add(this);
        _timeouts.SetTimeout(_options.KeepAliveTimeout, TimeoutReason.KeepAlive);
    }

    public override void DataReceived(ReadOnlySpan<byte> data)
    {
        if (_state == State.Closed)
        {
            return; // answered and closing (or lingering: what the client still sends is dropped)
        }
        if (_state == State.Head && _timeouts.Reason != TimeoutReason.RequestHeaders)
        {
            // The first byte of a request starts its clock (only the first: trickling does not reset it).
            _timeouts.SetTimeout(_options.RequestHeadersTimeout, TimeoutReason.RequestHeaders);
        }
        if (_state == State.Head && _input.IsEmpty && !_writingPaused)
        {
            int consumed = ProcessDirect(data);
            if (consumed < data.Length)
            {
                if (_state < State.Closed)
                {
                    _input.Append(data[consumed..]);
                }
                else if (_transport.Protocol != this)
                {
                    // Upgraded (its handler may even have ended already): the bytes after the head are the new protocol's.
                    _transport.Protocol.DataReceived(data[consumed..]);
                    return;
                }
            }
        }
        else if (_state == State.Handler && _input.IsEmpty && _bodyRead is { IsPending: true })
        {
            _timeouts.BytesRead(data.Length);
            ReceiveBody(data); // a read waits for exactly this: no copy into _input
        }
        else
        {
            _input.Append(data);
            if (_state is State.Handler or State.Drain)
            {
                _timeouts.BytesRead(data.Length);
            }
        }
        Pump();
        EndBatch();
    }

    public override bool EofReceived()
    {
        // Half-close: a client may send its request(s) and shut down its side; it still gets every answer
        // (Kestrel drops them). A request still incomplete at EOF will never complete.
        _peerClosed = true;
        if (_state == State.Handler && _response.IsEventStream)
        {
            FireRequestAborted(); // an event stream's client sends nothing after its request: its EOF means it has gone
        }
        if (_lingering)
        {
            _transport.Close(); // the client has all it will send, and its answer is out: the close is clean now
            return true;
        }
        Pump();
        EndBatch();
        return true; // keep the write side open until the answers are out
    }

    public override void ConnectionLost(Exception? error)
    {
        _state = State.Closed;
        FireRequestAborted();
        _heartbeat.Remove(this);
        _drained?.TrySetException(error ?? new IOException("The connection was closed."));
        FailBodyRead(new IOException("The connection was lost before the request body ended.", error));
        _request.Reset();
        _request.ReleaseBuffers();
        _output.Clear();
        _input.Release();
    }

    public override void PauseWriting()
    {
        _writingPaused = true;
        UpdateReading();
    }

    public override void ResumeWriting()
    {
        _writingPaused = false;
        TaskCompletionSource? drained = _drained;
        _drained = null;
        drained?.TrySetResult();
        // Called from inside the transport's flush: handle the requests held meanwhile in a callback of their own.
        _loop.CallSoon(s_onWritingResumed, this);
    }

    private void OnWritingResumed()
    {
        if (_writingPaused || _state == State.Closed)
        {
            return;
        }
        Pump();
        EndBatch();
    }

    /// <summary>
    /// The server is shutting down: an idle connection closes now; one with a request in flight answers it
    /// (with <c>Connection: close</c> if its head is not out yet) and then closes.
    /// </summary>
    public override void ShutdownRequested(Transport transport)
    {
        _shuttingDown = true;
        if ((_state == State.Head && _input.IsEmpty) || _state == State.Drain)
        {
            CloseAfterFlush();
        }
        else if (_state == State.Handler && !_response.HasStarted)
        {
            _response.CloseConnection = true;
        }
    }

    /// <summary>
    /// The fast path, with nothing buffered: heads parsed from the transport's own span, and requests without a
    /// body run there. A request with a body moves the rest of the read into <c>_input</c> (its handler reads
    /// the body from there) and ends it. Returns how much of <paramref name="input"/> was consumed.
    /// </summary>
    private int ProcessDirect(ReadOnlySpan<byte> input)
    {
        int offset = 0;
        while (_state == State.Head && !_writingPaused && offset < input.Length)
        {
            if (!TryParseHead(input[offset..], out int consumed))
            {
                return offset + consumed;
            }
            offset += consumed;
            if (_head.BodyKind != HttpBodyKind.None)
            {
                _input.Append(input[offset..]);
                offset = input.Length;
            }
            StartRequest();
        }
        return offset;
    }

    /// <summary>
    /// The request loop over <c>_input</c>: parse heads and start their requests, feed a waiting body read,
    /// drop what an answered request left unread, close at the peer's EOF when nothing is left to answer.
    /// Re-entrant calls (a handler completing inside it) only ask it to go round again, so the loop is one.
    /// </summary>
    private void Pump()
    {
        if (_pumping)
        {
            _pumpAgain = true;
            return;
        }
        _pumping = true;
        try
        {
            do
            {
                _pumpAgain = false;
                PumpOnce();
            }
            while (_pumpAgain && _state != State.Closed);
        }
        finally
        {
            _pumping = false;
        }
        UpdateReading();
    }

    private void PumpOnce()
    {
        while (true)
        {
            switch (_state)
            {
                case State.Head:
                    if (_writingPaused)
                    {
                        return; // the client is not reading its answers: handle nothing more until it does
                    }
                    if (!_input.IsEmpty)
                    {
                        if (!TryParseHead(_input.Span, out int consumed))
                        {
                            _input.Consume(consumed);
                            break;
                        }
                        _input.Consume(consumed);
                        StartRequest();
                        continue;
                    }
                    break;
                case State.Handler:
                    OnBodyDataAvailable();
                    return;
                case State.Drain:
                    if (Drain())
                    {
                        continue;
                    }
                    return;
                default:
                    return;
            }
            // Head, with no complete head in the input.
            if (_peerClosed && _state == State.Head)
            {
                CloseAfterFlush(); // nothing left to answer: what is buffered is a head that will never end
            }
            return;
        }
    }

    /// <summary>Parses the next head from <paramref name="input"/>; bad bytes get their 4xx and the close.</summary>
    private bool TryParseHead(ReadOnlySpan<byte> input, out int consumed)
    {
        try
        {
            var handler = new HeadHandler(_request, input);
            if (!_parser.TryParseHead(input, ref handler, out consumed, out _head))
            {
                return false;
            }
            _request.SetHead(input[..consumed], _head);
            return true;
        }
        catch (HttpRejectException e)
        {
            Reject(e);
            consumed = 0;
            return false;
        }
    }

    /// <summary>
    /// Sends the error response for bad input — after every answer already made — and closes after it. The body
    /// names the reason only: the exception's message echoes the bytes that had arrived when the parser gave up,
    /// which depends on how they were split into reads, and the answer must not.
    /// </summary>
    private void Reject(HttpRejectException e) => Reject(e.StatusCode, HttpReject.Describe(e.Reason) + ".");

    private void Reject(int status, string message)
    {
        // No handler sees this response: the objects are live only while it is written, so a reference kept
        // from the previous request still fails.
        bool wasDone = _response.IsDone;
        _context.SetDone(false);
        _response.Reset();
        _response.CloseConnection = true;
        _response.StatusCode = status;
        _response.Text(message + "\n");
        _context.SetDone(wasDone);
        CloseAfterFlush(linger: true); // the client may be sending still: let the answer reach it
    }

    /// <summary>
    /// Sends what is buffered and closes. When the client may still be sending (bytes unread, a request whose
    /// body has not all arrived, bad input), the close lingers, as nginx's <c>lingering_close</c>: the answer goes
    /// out with a FIN after it, and what the client still sends is read and dropped until it closes its side or
    /// <see cref="LingerTimeout"/> passes. Closing at once with unread bytes would make the kernel reset the
    /// connection, and the reset can destroy the answer on its way: the client would see a reset, not the 4xx.
    /// </summary>
    private void CloseAfterFlush(bool linger = false)
    {
        bool bodyUnread = _state is State.Handler or State.Drain && !_body.IsComplete;
        _state = State.Closed;
        Flush();
        linger |= bodyUnread || !_input.IsEmpty;
        _input.Release();
        if (!linger || _peerClosed || !_transport.CanWriteEof)
        {
            _transport.Close(); // sends what is buffered first
            return;
        }
        _lingering = true;
        _transport.WriteEof();
        _timeouts.SetTimeout(LingerTimeout, TimeoutReason.Linger);
        if (!_transport.IsReading)
        {
            _transport.ResumeReading();
        }
    }

    private void Flush()
    {
        if (_output.Length > 0)
        {
            _bytesWritten += _output.Length;
            _transport.Write(_output.WrittenSpan);
            _output.Clear();
        }
        _responseStart = 0; // what the current response writes next starts the buffer
    }

    /// <summary>
    /// The end of a batch (a read, or an asynchronous handler's completion): the answers go out in one write,
    /// and a connection waiting for its next request arms the right clock and gives its buffers back.
    /// </summary>
    private void EndBatch()
    {
        Flush();
        if (_state != State.Head)
        {
            return;
        }
        _request.ReleaseBuffers(); // between requests: an idle connection holds no buffers
        if (_input.IsEmpty)
        {
            _input.Release();
            _timeouts.SetTimeout(_options.KeepAliveTimeout, TimeoutReason.KeepAlive);
        }
        else if (_timeouts.Reason != TimeoutReason.RequestHeaders)
        {
            _timeouts.SetTimeout(_options.RequestHeadersTimeout, TimeoutReason.RequestHeaders); // part of the next request came with this batch
        }
    }

    // HttpContext.RequestAborted: made when a handler first asks, fired when the client has gone, reused across the
    // connection's requests until fired (a fired one is for a connection that is ending anyway).
    private CancellationTokenSource? _aborted;

    CancellationToken IResponseSink.RequestAborted => (_aborted ??= new CancellationTokenSource()).Token;

    EventLoop IResponseSink.Loop => _loop;

    /// <summary>Fires <see cref="HttpContext.RequestAborted"/> if a handler asked for it; its callbacks run here, on the loop.</summary>
    private void FireRequestAborted()
    {
        CancellationTokenSource? aborted = _aborted;
        if (aborted is null || aborted.IsCancellationRequested)
        {
            return;
        }
        try
        {
            aborted.Cancel();
        }
        catch (AggregateException e)
        {
            _loop.CallExceptionHandler(new LoopExceptionContext("a RequestAborted callback failed", e));
        }
    }

    ValueTask IResponseSink.FlushAsync()
    {
        Flush();
        return WhenDrained();
    }

    bool IResponseSink.CanSendFile => _transport.CanSendFile;

    ValueTask IResponseSink.SendFileAsync(SafeFileHandle file, long offset, int count)
    {
        // The head (and any earlier answer of the batch) goes first, in the file's first packets.
        if (_state != State.Closed && !_transport.IsClosing)
        {
            _bytesWritten += _output.Length + count;
            _transport.SendFile(_output.WrittenSpan, file, offset, count);
        }
        _output.Clear();
        _responseStart = 0;
        return WhenDrained();
    }

    /// <summary>Completes at once unless the client is slow to read; then when the transport's buffer drains.</summary>
    private ValueTask WhenDrained()
    {
        if (_state == State.Closed || _transport.IsClosing)
        {
            return ValueTask.FromException(new IOException("The connection was closed."));
        }
        if (!_writingPaused)
        {
            return default;
        }
        _drained ??= new TaskCompletionSource();
        return new ValueTask(_drained.Task);
    }

    /// <summary>
    /// Reads from the socket only while there is a use for the bytes: between requests unless the client is
    /// not reading its answers; while a handler runs or a body is dropped, up to the request buffer's size.
    /// </summary>
    private void UpdateReading()
    {
        if (_state >= State.Closed || _peerClosed)
        {
            return;
        }
        bool read = _state switch
        {
            State.Head => !_writingPaused,
            _ => _input.Length < _options.MaxRequestBufferSize,
        };
        if (read == !_readingPaused)
        {
            return;
        }
        _readingPaused = !read;
        if (read)
        {
            _timeouts.ResumeTimingReads();
            _transport.ResumeReading();
        }
        else
        {
            _timeouts.PauseTimingReads(); // not the client's fault: the body rate does not count this time
            _transport.PauseReading();
        }
    }

    // ---- timeouts (see TimeoutControl) ----

    /// <summary>Called once a second by the heartbeat: acts on whichever limit ran out.</summary>
    public void OnHeartbeat(long now)
    {
        if (_state == State.Closed && _transport.WriteBufferSize == 0 && !_lingering)
        {
            return;
        }
        switch (_timeouts.Tick(now, _bytesWritten - _transport.WriteBufferSize, _transport.WriteBufferSize))
        {
            case TimeoutReason.WriteDataRate:
                // Slow read: the client takes its answers too slowly (perhaps not at all).
                _state = State.Closed;
                _output.Clear();
                FailBodyRead(new IOException("The connection was aborted: the client read its response too slowly."));
                _transport.Abort();
                break;
            case TimeoutReason.RequestHeaders when _state == State.Head && !_writingPaused: // not while we hold its requests back
                Reject(408, "The request head took too long.");
                break;
            case TimeoutReason.KeepAlive when _state == State.Head && _input.IsEmpty:
                CloseAfterFlush(); // an idle keep-alive connection: close quietly
                break;
            case TimeoutReason.Linger when _lingering:
                _transport.Close();
                break;
            case TimeoutReason.RequestBodyDrain when _state == State.Drain:
                CloseAfterFlush();
                break;
            case TimeoutReason.ReadDataRate when _state is State.Handler or State.Drain:
                OnBodyTooSlow();
                break;
        }
    }

    // ---- upgrade (RFC 9110 §7.8; the WebSocket layer calls it through HttpContext.Upgrader) ----

    HttpHeartbeat IConnectionUpgrader.Heartbeat => _heartbeat;

    void IConnectionUpgrader.Upgrade(UpgradedProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        if (_state != State.Handler || _response.HasStarted)
        {
            throw new InvalidOperationException("Only a running handler whose response has not started can upgrade the connection.");
        }
        if (_head.BodyKind != HttpBodyKind.None)
        {
            throw new InvalidOperationException("A request with a body cannot upgrade the connection.");
        }
        _response.CloseConnection = false;
        _response.CompleteStream(); // the 101's head: no body
        Flush();                    // after every answer before it, and before any byte of the new protocol
        _state = State.Upgraded;
        _upgraded = protocol;
        _timeouts.CancelTimeout();
        _heartbeat.Remove(this);
        _transport.Protocol = protocol;
        protocol.ConnectionMade(_transport);
        if (_readingPaused)
        {
            _readingPaused = false; // the new protocol does its own flow control
            _transport.ResumeReading();
        }
        if (!_input.IsEmpty)
        {
            protocol.DataReceived(_input.Span); // what came after the head while the handler ran
        }
        _input.Release();
        if (_peerClosed && !protocol.EofReceived())
        {
            _transport.Close();
        }
    }

    /// <summary>The handler that upgraded the connection has ended: this object's part is over.</summary>
    private void EndUpgraded(Exception? error)
    {
        UpgradedProtocol protocol = _upgraded!;
        _upgraded = null;
        _state = State.Closed;
        _context.SetDone(true);
        _request.Reset();
        _request.ReleaseBuffers();
        _context.Reset();
        _output.Clear();
        protocol.HandlerCompleted(error);
    }

    private static string Escape(string text)
    {
        // Only for the log: request bytes are echoed escaped and capped.
        string capped = text.Length > 100 ? text[..100] + "…" : text;
        return string.Create(capped.Length, capped, static (span, s) =>
        {
            for (int i = 0; i < s.Length; i++)
            {
                span[i] = char.IsControl(s[i]) ? '?' : s[i];
            }
        });
    }

    /// <summary>
    /// Records where the parts of the head are in <paramref name="input"/> (the parser's spans point into it), for the
    /// request to find them in its copy of the head.
    /// </summary>
    private readonly ref struct HeadHandler(HttpRequest request, ReadOnlySpan<byte> input) : IHttpRequestHandler
    {
        private readonly ReadOnlySpan<byte> _input = input;

        public void OnRequestLine(HttpRequestLine requestLine) =>
            request.BeginHead(requestLine.Verb, OffsetOf(requestLine.Method), requestLine.Method.Length,
                OffsetOf(requestLine.Target), requestLine.Target.Length, requestLine.Version);

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
            request.AddHeader(OffsetOf(name), name.Length, OffsetOf(value), value.Length);

        private int OffsetOf(ReadOnlySpan<byte> part) =>
            (int)Unsafe.ByteOffset(ref MemoryMarshal.GetReference(_input), ref MemoryMarshal.GetReference(part));

        public void OnHeadersComplete(in HttpRequestHead head)
        {
        }
    }
}
