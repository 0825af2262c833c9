using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Eddy.Loop;
using Eddy.Transports;

namespace Eddy.Http.Internal;

/// <summary>
/// One HTTP/1.1 connection: a <see cref="Protocol"/> that parses requests out of the bytes as they arrive,
/// runs the application for each, and writes the responses in request order.
/// <para>
/// Bytes are parsed straight from the transport's span; only the unconsumed tail of an incomplete request
/// is copied (into <c>_pending</c>). The responses to every request found in one read go out in one
/// <see cref="Transport.Write"/> (pipelining: one send for a batch). A handler that completes synchronously
/// costs no allocation; one that goes asynchronous holds the connection's next requests (in order) until
/// it is done. Bad input gets its 4xx/5xx and the connection is closed after it.
/// </para>
/// <para>
/// Back-pressure: while the transport's write buffer is above its high-water mark (the client is not
/// reading), the connection handles no further request and stops reading, so its buffered output stays
/// near the mark (plus at most one response); if the client then reads slower than
/// <see cref="HttpServerOptions.MinResponseDataRate"/>, the connection is aborted.
/// </para>
/// <para>Loop thread only. States: <c>Head → Body? → Handler → Head …</c>, or <c>Closed</c>.</para>
/// </summary>
internal sealed partial class HttpConnection : Protocol, IResponseSink
{
    private enum State : byte
    {
        Head,
        Body,
        Handler,
        Closed,
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
    private Transport _transport = null!;

    private State _state;
    private byte[] _pending = [];       // unconsumed input: an incomplete request, or requests queued behind a running handler
    private int _pendingLength;
    private HttpRequestHead _head;
    private long _bodyRemaining;        // Content-Length bytes still to come
    private ChunkedDecoder? _chunked;
    private bool _readingPaused;
    private bool _writingPaused;
    private bool _shuttingDown;         // the server is shutting down: close after the exchange in flight
    private TaskCompletionSource? _drained;

    // Timeouts, checked once a second by the heartbeat (Environment.TickCount64 milliseconds; 0 = none).
    private long _deadline;
    private long _bodyStarted;
    private long _bodyReceived;
    private long _bytesWritten;         // handed to the transport; minus its write buffer = sent
    private long _writeWindowStart;     // while output is backed up: when the current rate window began (0 = none)
    private long _writeWindowSent;

    public HttpConnection(EventLoop loop, RequestHandler application, HttpServerOptions options, HttpHeartbeat heartbeat)
    {
        _loop = loop;
        _application = application;
        _options = options;
        _heartbeat = heartbeat;
        _parser = new HttpParser(options.ParserLimits);
        _response = new HttpResponse(_output, this);
        _context = new HttpContext(loop, _request, _response);
    }

    public override void ConnectionMade(Transport transport)
    {
        _transport = transport;
        _request.RemoteEndPoint = transport.RemoteEndPoint;
        _heartbeat.Add(this);
        ArmKeepAliveTimeout();
    }

    public override void DataReceived(ReadOnlySpan<byte> data)
    {
        if (_state == State.Closed)
        {
            return;
        }
        if (_state == State.Head && _deadline <= 0)
        {
            ArmHeadersTimeout(); // the first byte of a request starts its clock (only the first: trickling does not reset it)
        }
        if (_pendingLength > 0 || _state == State.Handler || _writingPaused)
        {
            AppendPending(data);
            if (_writingPaused)
            {
                PauseReading(); // the client is not reading its answers: handle nothing more until it does
                return;
            }
            if (_state == State.Handler)
            {
                // A handler is running: hold what comes, in order, up to a limit; then let TCP slow the client.
                if (_pendingLength > _options.MaxPipelinedBytes)
                {
                    PauseReading();
                }
                return;
            }
            ProcessPending();
        }
        else
        {
            int consumed = Process(data);
            if (consumed < data.Length && _state != State.Closed)
            {
                AppendPending(data[consumed..]);
            }
        }
        EndBatch();
    }

    public override bool EofReceived()
    {
        // Half-close: a client may send its request(s) and shut down its side; it still gets every answer
        // (Kestrel drops them). A request still incomplete at EOF will never complete.
        _peerClosed = true;
        CloseIfPeerDone();
        return true; // keep the write side open until the answers are out
    }

    private bool _peerClosed;

    /// <summary>After the peer's EOF, close once nothing is left to answer.</summary>
    private void CloseIfPeerDone()
    {
        if (_peerClosed && _state is State.Head or State.Body)
        {
            CloseAfterFlush();
        }
    }

    public override void ConnectionLost(Exception? error)
    {
        _state = State.Closed;
        _heartbeat.Remove(this);
        _drained?.TrySetException(error ?? new IOException("The connection was closed."));
        _request.Reset();
        _request.ReleaseBuffers();
        _output.Clear();
        ReleasePending();
    }

    public override void PauseWriting()
    {
        _writingPaused = true;
        PauseReading();
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
        if (_writingPaused || _state is not (State.Head or State.Body))
        {
            return; // paused again, or a handler is running and will go on with the held requests when it ends
        }
        ProcessPending();
        if (_state != State.Closed)
        {
            MaybeResumeReading();
            CloseIfPeerDone();
        }
        EndBatch();
    }

    /// <summary>
    /// The server is shutting down: an idle connection closes now; one with a request in flight answers it
    /// (with <c>Connection: close</c> if its head is not out yet) and then closes.
    /// </summary>
    public override void ShutdownRequested(Transport transport)
    {
        _shuttingDown = true;
        if (_state == State.Head && _pendingLength == 0)
        {
            CloseAfterFlush();
        }
        else if (_state == State.Handler && !_response.HasStarted)
        {
            _response.CloseConnection = true;
        }
    }

    /// <summary>Parses and handles requests from <paramref name="input"/>; returns how much of it was consumed.</summary>
    private int Process(ReadOnlySpan<byte> input)
    {
        int offset = 0;
        try
        {
            while (_state is State.Head or State.Body && !_writingPaused)
            {
                if (_state == State.Head)
                {
                    if (offset == input.Length || !ParseHead(input[offset..], ref offset))
                    {
                        break;
                    }
                }
                if (_state == State.Body && !ReadBody(input, ref offset))
                {
                    break;
                }
                if (_state == State.Handler)
                {
                    RunHandler();
                    if (_output.Length > _transport.WriteBufferHighWaterMark)
                    {
                        Flush(); // a large batch: let the transport say whether the client keeps up before the next request
                    }
                }
            }
        }
        catch (HttpRejectException e)
        {
            Reject(e.StatusCode, e.Message);
            return input.Length;
        }
        return offset;
    }

    private bool ParseHead(ReadOnlySpan<byte> input, ref int offset)
    {
        var handler = new HeadHandler(_request, input);
        bool complete = _parser.TryParseHead(input, ref handler, out int consumed, out HttpRequestHead head);
        offset += consumed;
        if (!complete)
        {
            return false;
        }
        _head = head;
        _request.SetHead(input[..consumed], head);
        _deadline = 0;
        switch (head.BodyKind)
        {
            case HttpBodyKind.ContentLength when head.ContentLength > 0:
                if (head.ContentLength > _options.MaxRequestBodySize)
                {
                    throw new HttpRejectException(HttpRejectReason.BodyTooLarge, $"The body ({head.ContentLength} bytes) is larger than the limit ({_options.MaxRequestBodySize}).");
                }
                _bodyRemaining = head.ContentLength;
                StartBody();
                break;
            case HttpBodyKind.Chunked:
                _chunked ??= new ChunkedDecoder(_options.ParserLimits);
                _chunked.Reset();
                StartBody();
                break;
            default:
                _state = State.Handler;
                break;
        }
        return true;
    }

    private void StartBody()
    {
        _state = State.Body;
        _bodyStarted = Environment.TickCount64;
        _bodyReceived = 0;
        if (_head.ExpectContinue)
        {
            // RFC 9110 §10.1.1: the client waits for this before sending the body.
            _output.Write("HTTP/1.1 100 Continue\r\n\r\n"u8);
        }
    }

    /// <summary>Moves body bytes from <paramref name="input"/> into the request; true once the body is complete.</summary>
    private bool ReadBody(ReadOnlySpan<byte> input, ref int offset)
    {
        if (_head.BodyKind == HttpBodyKind.ContentLength)
        {
            int n = (int)Math.Min(_bodyRemaining, input.Length - offset);
            _request.AppendBody(input.Slice(offset, n));
            offset += n;
            _bodyRemaining -= n;
            _bodyReceived += n;
            if (_bodyRemaining > 0)
            {
                return false;
            }
        }
        else
        {
            while (true)
            {
                var trailers = new TrailerHandler(_request);
                BodyDecodeStatus status = _chunked!.Decode(input[offset..], ref trailers, out int consumed, out ReadOnlySpan<byte> data);
                offset += consumed;
                _bodyReceived += consumed;
                if (_chunked.BodyLength > _options.MaxRequestBodySize)
                {
                    // Rejected as soon as a chunk-size announces too much, not after receiving it.
                    throw new HttpRejectException(HttpRejectReason.BodyTooLarge, $"The body is larger than the limit ({_options.MaxRequestBodySize} bytes).");
                }
                if (status == BodyDecodeStatus.Done)
                {
                    break;
                }
                if (status == BodyDecodeStatus.NeedMoreData)
                {
                    return false;
                }
                _request.AppendBody(data);
            }
        }
        _state = State.Handler;
        return true;
    }

    /// <summary>A fresh response for the current request. (The context was reset when the previous request finished.)</summary>
    private void PrepareResponse()
    {
        _response.Reset();
        _response.IsHead = _head.Verb == HttpVerb.Head;
        _response.CloseConnection = !_head.KeepAlive || _shuttingDown;
    }

    private void RunHandler()
    {
        PrepareResponse();
        ValueTask task;
        try
        {
            task = _application(_context);
        }
        catch (Exception e)
        {
            OnHandlerFailed(e);
            FinishRequest();
            return;
        }
        if (task.IsCompletedSuccessfully)
        {
            task.GetAwaiter().GetResult(); // for an IValueTaskSource-backed task: release it
            FinishRequest();
        }
        else
        {
            _ = AwaitHandlerAsync(task);
        }
    }

    private async Task AwaitHandlerAsync(ValueTask task)
    {
        try
        {
            await task; // resumes on the loop thread
        }
        catch (IOException) when (_state == State.Closed || _transport.IsClosing)
        {
            // The connection was lost under a streaming handler (the client went away or read too slowly): not a bug to log.
        }
        catch (Exception e)
        {
            OnHandlerFailed(e);
        }
        if (_state == State.Closed)
        {
            return;
        }
        FinishRequest();
        if (_state != State.Closed)
        {
            ProcessPending(); // the requests that queued up behind this one
            if (_state != State.Closed)
            {
                MaybeResumeReading();
            }
            CloseIfPeerDone();
        }
        EndBatch();
    }

    private void OnHandlerFailed(Exception error)
    {
        _loop.CallExceptionHandler(new Loop.LoopExceptionContext(
            $"Unhandled exception in the HTTP handler for \"{Escape(_request.Method)} {Escape(_request.RawTarget)}\"", error, source: _transport));
        if (_response.HasStarted)
        {
            // Part of the response is out: the only honest end is to cut the connection.
            _output.Clear();
            _state = State.Closed;
            _transport.Abort();
            return;
        }
        // 500 without internal details; the details went to the log.
        PrepareResponse();
        _response.StatusCode = 500;
        _response.Text("Internal Server Error\n");
    }

    /// <summary>Completes the response and readies the connection for the next request (or closes it).</summary>
    private void FinishRequest()
    {
        if (_state == State.Closed)
        {
            return;
        }
        _response.CompleteStream();
        if (_response.IsTruncated)
        {
            CloseAfterFlush(); // the client sees EOF before the announced length: a truncated response, not a mixed-up one
            return;
        }
        bool keepAlive = _head.KeepAlive && !_response.CloseConnection && !_shuttingDown;
        _request.Reset();
        _context.Reset();
        _state = State.Head;
        if (!keepAlive)
        {
            CloseAfterFlush();
        }
        // The next timeout (idle, or the next request's head) is armed once per batch, in EndBatch.
    }

    private void ProcessPending()
    {
        if (_pendingLength == 0)
        {
            return;
        }
        int consumed = Process(_pending.AsSpan(0, _pendingLength));
        if (_state == State.Closed)
        {
            return;
        }
        _pending.AsSpan(consumed, _pendingLength - consumed).CopyTo(_pending);
        _pendingLength -= consumed;
        if (_pendingLength == 0)
        {
            ReleasePending();
        }
    }

    /// <summary>Sends an error response for bad input and closes the connection after it.</summary>
    private void Reject(int status, string message)
    {
        _output.Clear();
        _response.Reset();
        _response.CloseConnection = true;
        _response.StatusCode = status;
        _response.Text(message + "\n");
        CloseAfterFlush();
    }

    private void CloseAfterFlush()
    {
        _state = State.Closed;
        Flush();
        _transport.Close(); // sends what is buffered first
        ReleasePending();
    }

    private void Flush()
    {
        if (_output.Length > 0)
        {
            _bytesWritten += _output.Length;
            _transport.Write(_output.WrittenSpan);
            _output.Clear();
        }
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
        if (_pendingLength == 0)
        {
            ArmKeepAliveTimeout();
        }
        else if (_deadline <= 0)
        {
            ArmHeadersTimeout(); // part of the next request came with this batch: its clock starts now
        }
    }

    ValueTask IResponseSink.FlushAsync()
    {
        Flush();
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

    private void PauseReading()
    {
        if (!_readingPaused)
        {
            _readingPaused = true;
            _transport.PauseReading();
        }
    }

    private void MaybeResumeReading()
    {
        if (_readingPaused && !_writingPaused && _pendingLength <= _options.MaxPipelinedBytes)
        {
            _readingPaused = false;
            _transport.ResumeReading();
        }
    }

    private void AppendPending(ReadOnlySpan<byte> data)
    {
        if (_pending.Length - _pendingLength < data.Length)
        {
            byte[] bigger = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(_pendingLength + data.Length, Math.Max(_pending.Length * 2, 1024)));
            _pending.AsSpan(0, _pendingLength).CopyTo(bigger);
            ReleasePending(keepLength: true);
            _pending = bigger;
        }
        data.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength += data.Length;
    }

    private void ReleasePending(bool keepLength = false)
    {
        if (_pending.Length > 0)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(_pending);
        }
        _pending = [];
        if (!keepLength)
        {
            _pendingLength = 0;
        }
    }

    // ---- timeouts (see HttpHeartbeat) ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ArmHeadersTimeout() => _deadline = Environment.TickCount64 + (long)_options.RequestHeadersTimeout.TotalMilliseconds;

    private void ArmKeepAliveTimeout() => _deadline = -(Environment.TickCount64 + (long)_options.KeepAliveTimeout.TotalMilliseconds);

    /// <summary>Called once a second: enforces the head, keep-alive, body-rate and response-rate timeouts.</summary>
    internal void OnHeartbeat(long now)
    {
        if (IsResponseTooSlow(now) || _state == State.Closed) // closed, but perhaps still flushing its last answer
        {
            return;
        }
        if (_deadline > 0 && now > _deadline && _state == State.Head && !_writingPaused) // not while we hold its requests back
        {
            // Slowloris: the head did not arrive in time.
            Reject(408, "The request head took too long.");
        }
        else if (_deadline < 0 && now > -_deadline && _state == State.Head && _pendingLength == 0)
        {
            CloseAfterFlush(); // an idle keep-alive connection: close quietly
        }
        else if (_state == State.Body && _options.MinRequestBodyDataRate > 0 && !_readingPaused) // not while we hold the client back
        {
            double elapsed = (now - _bodyStarted) / 1000.0;
            if (elapsed > _options.MinRequestBodyDataRateGracePeriod.TotalSeconds && _bodyReceived < elapsed * _options.MinRequestBodyDataRate)
            {
                Reject(408, "The request body arrived too slowly.");
            }
        }
    }

    /// <summary>
    /// Slow read: while output waits in the transport's buffer, every grace-period window must see at least
    /// <see cref="HttpServerOptions.MinResponseDataRate"/> bytes per second leave it, or the connection is aborted
    /// (a client that stops reading cannot pin the buffer, or a handler awaiting drain, forever).
    /// </summary>
    private bool IsResponseTooSlow(long now)
    {
        int buffered = _transport.WriteBufferSize;
        if (buffered == 0 || _options.MinResponseDataRate <= 0)
        {
            _writeWindowStart = 0;
            return false;
        }
        long sent = _bytesWritten - buffered;
        if (_writeWindowStart == 0)
        {
            _writeWindowStart = now;
            _writeWindowSent = sent;
            return false;
        }
        double elapsed = (now - _writeWindowStart) / 1000.0;
        if (elapsed < _options.MinResponseDataRateGracePeriod.TotalSeconds)
        {
            return false;
        }
        if (sent - _writeWindowSent < elapsed * _options.MinResponseDataRate)
        {
            _state = State.Closed;
            _output.Clear();
            _transport.Abort();
            return true;
        }
        _writeWindowStart = now;
        _writeWindowSent = sent;
        return false;
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

    /// <summary>Keeps a chunked body's trailer fields apart from its headers (RFC 9110 §6.5).</summary>
    private readonly struct TrailerHandler(HttpRequest request) : IHttpTrailerHandler
    {
        public void OnTrailer(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => request.AddTrailer(name, value);
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
