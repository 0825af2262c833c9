using Eddy.Http.Parsing;
using Eddy.Loop;
using Eddy.Loop.Internal;

namespace Eddy.Http.Internal;

// The request body: read through one HttpBodyDecoder, as the handler asks for it.
//
// The handler pulls: a read decodes what waits in _input into the handler's buffer, or, when nothing
// does, parks (one waiter per connection) until DataReceived brings more. With a read waiting and
// nothing buffered, DataReceived decodes straight from the transport's span into the reader's buffer:
// an upload costs one copy, the one into the handler's memory. What the handler does not read waits in
// _input up to MaxRequestBufferSize; then reading stops (UpdateReading), so an upload of any size costs
// bounded memory. The first read sends 100 Continue to a client that asked for it (Kestrel's rule),
// after the limit check, so a body over the limit gets 413 and never a 100.
// A handler that ends before its body does: the rest is dropped (Drain) within MaxRequestBodyDrainSize
// and RequestBodyDrainTimeout, else the connection closes after the response.
internal sealed partial class HttpConnection
{
    private readonly HttpBodyDecoder _body;
    private CancellableOperation<int>? _bodyRead;   // the one waiting read, reused; pending while IsPending (continues inline: LoopValueTaskSource)
    private Memory<byte> _bodyReadBuffer;
    private Exception? _bodyError;          // the body failed: every later read throws this
    private bool _bodyTimed;                // the rate clock runs for this body (from its first read)
    private bool _continueSent;
    private bool _mustClose;                // the body's framing broke, or it was left unreadable: no further request
    private long _dropped;                  // Drain: body bytes dropped so far

    long IRequestBodySource.BodyBytesRead => _body.BytesDecoded;

    bool IRequestBodySource.IsBodyCompleted => _body.IsComplete;

    long? IRequestBodySource.MaxBodySize
    {
        get => _body.MaxBodySize;
        set
        {
            ThrowIfNoRequest();
            _body.MaxBodySize = value;
        }
    }

    /// <summary>A client that sent <c>Expect: 100-continue</c> still waits for the go-ahead before it sends the body.</summary>
    private bool AwaitsContinue => _head.ExpectContinue && !_continueSent && !_body.IsComplete;

    /// <summary>The head is in: the body (if any) is read from here on, under the server's limit.</summary>
    private void BeginBody()
    {
        _body.Begin(_head, _options.MaxRequestBodySize);
        _bodyError = null;
        _bodyTimed = false;
        _continueSent = false;
        _mustClose = false;
        _timeouts.StopTimingReads();
    }

    ValueTask<int> IRequestBodySource.ReadBodyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int n;
        try
        {
            n = ReadBuffered(buffer.Span);
        }
        catch (Exception e)
        {
            return ValueTask.FromException<int>(e);
        }
        if (n >= 0)
        {
            return new ValueTask<int>(n);
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }
        _bodyRead ??= new CancellableOperation<int>(_loop);
        short token = _bodyRead.Start(cancellationToken);
        _bodyReadBuffer = buffer;
        UpdateReading();
        return new ValueTask<int>(_bodyRead, token);
    }

    int IRequestBodySource.TryReadBody(Span<byte> buffer) => ReadBuffered(buffer);

    /// <summary>Body bytes from <c>_input</c> into <paramref name="destination"/>: their count, 0 at the end, -1 when none has arrived.</summary>
    private int ReadBuffered(Span<byte> destination)
    {
        ThrowIfNoRequest();
        if (_bodyRead is { IsPending: true })
        {
            throw new InvalidOperationException("A read of the request body is already waiting; await it before reading again.");
        }
        if (_bodyError is not null)
        {
            throw _bodyError;
        }
        if (destination.IsEmpty)
        {
            return 0;
        }
        if (!_bodyTimed && !_body.IsComplete)
        {
            _bodyTimed = true; // the body rate is the client's concern once the handler asks for the body
            _timeouts.StartTimingReads();
        }
        bool awaitsContinue = AwaitsContinue;
        int n = DecodeBody(_input.Span, destination, out int consumed);
        _input.Consume(consumed);
        if (awaitsContinue)
        {
            SendContinue(); // after the first decode: a body over the limit has thrown, and gets 413, never a 100
        }
        if (n < 0 && _peerClosed)
        {
            FailBody(new HttpRejectException(HttpRejectReason.IncompleteBody, "The connection ended before the request body did."));
            throw _bodyError!;
        }
        UpdateReading(); // what was consumed may let reading resume
        return n;
    }

    /// <summary>
    /// Decodes the next body bytes in <paramref name="source"/> into <paramref name="destination"/>: their count,
    /// 0 at the end of the body, or -1 when <paramref name="source"/> held no body data (framing bytes may still
    /// have been consumed). A body that breaks its framing or its limit fails for good.
    /// </summary>
    private int DecodeBody(ReadOnlySpan<byte> source, Span<byte> destination, out int consumed)
    {
        var trailers = new TrailerHandler(_request);
        BodyDecodeStatus status;
        ReadOnlySpan<byte> data;
        try
        {
            status = _body.Decode(source, destination.Length, ref trailers, out consumed, out data);
        }
        catch (HttpRejectException e)
        {
            FailBody(e);
            throw;
        }
        switch (status)
        {
            case BodyDecodeStatus.Data:
                data.CopyTo(destination);
                return data.Length;
            case BodyDecodeStatus.Done:
                _timeouts.StopTimingReads();
                return 0;
            default:
                return -1;
        }
    }

    /// <summary>
    /// New input while the handler runs (DataReceived, EOF): a waiting read gets its bytes from <c>_input</c>, or
    /// fails if the body can no longer complete.
    /// </summary>
    private void OnBodyDataAvailable()
    {
        if (_bodyRead is not { IsPending: true } read)
        {
            return;
        }
        int n;
        try
        {
            n = DecodeBody(_input.Span, _bodyReadBuffer.Span, out int consumed);
            _input.Consume(consumed);
            if (n < 0 && _peerClosed)
            {
                FailBody(new HttpRejectException(HttpRejectReason.IncompleteBody, "The connection ended before the request body did."));
                return;
            }
        }
        catch (HttpRejectException)
        {
            return; // FailBody failed the read
        }
        if (n >= 0)
        {
            _bodyReadBuffer = default;
            read.SetResult(n); // the handler goes on, inline: Pump is on the stack, so what it causes waits its turn
        }
    }

    /// <summary>
    /// A read waits and nothing is buffered: decode straight from the transport's span into the reader's buffer.
    /// What is left goes to <c>_input</c> before the reader resumes (it may read again at once).
    /// </summary>
    private void ReceiveBody(ReadOnlySpan<byte> data)
    {
        int n;
        int consumed;
        try
        {
            n = DecodeBody(data, _bodyReadBuffer.Span, out consumed);
        }
        catch (HttpRejectException)
        {
            return; // FailBody failed the read; the connection closes once the handler has answered
        }
        if (consumed < data.Length)
        {
            _input.Append(data[consumed..]);
        }
        if (n >= 0)
        {
            _bodyReadBuffer = default;
            _bodyRead!.SetResult(n);
        }
    }

    /// <summary>The body cannot complete: the waiting read and every later one throw <paramref name="error"/>; no further request on this connection.</summary>
    private void FailBody(Exception error)
    {
        _bodyError ??= error;
        _mustClose = true;
        _timeouts.StopTimingReads();
        if (_bodyRead is { IsPending: true } read)
        {
            _bodyReadBuffer = default;
            read.SetException(_bodyError);
        }
    }

    /// <summary>The connection went away: a waiting read throws.</summary>
    private void FailBodyRead(Exception error)
    {
        if (_bodyRead is { IsPending: true })
        {
            FailBody(error);
        }
    }

    /// <summary>The body rate fell below <see cref="HttpServerOptions.MinRequestBodyDataRate"/>.</summary>
    private void OnBodyTooSlow()
    {
        if (_state == State.Drain)
        {
            CloseAfterFlush();
            return;
        }
        FailBody(new HttpRejectException(HttpRejectReason.BodyTimeout, "The request body arrived too slowly."));
    }

    /// <summary>
    /// RFC 9110 §10.1.1: the client waits for <c>100 Continue</c> before it sends the body. Sent when the handler
    /// first reads the body (Kestrel's rule) — not before, so a handler that answers without reading never invites
    /// the upload, and not once the final response has started. Sent even if some of the body has arrived (the
    /// RFC would allow leaving it out): whether it had is a matter of how the bytes were split into reads, and
    /// what the client gets back must not be.
    /// </summary>
    private void SendContinue()
    {
        if (_response.HasStarted)
        {
            return; // the client has its final answer: it will not send the body, and the connection ends after it
        }
        _continueSent = true;
        _output.Write("HTTP/1.1 100 Continue\r\n\r\n"u8);
        Flush(); // the client is waiting for it: it cannot wait for the end of the batch
        _response.CloseConnection = ShouldCloseAfterResponse(); // the body will come after all: keep-alive is possible again
        _responseStart = _output.Length;
    }

    /// <summary>
    /// The handler has ended and its body has not: drop the rest so the connection can carry the next request,
    /// unless that would cost too much (or the client never got its 100 and will not send it): then close.
    /// </summary>
    private void StartDrain()
    {
        long? left = _body.ContentLength - _body.BytesDecoded;
        if (_bodyError is not null || AwaitsContinue || left > _options.MaxRequestBodyDrainSize)
        {
            CloseAfterFlush();
            return;
        }
        if (!_body.HasStarted)
        {
            _body.MaxBodySize = null; // the request is answered: dropping its body is bounded by the drain limits alone
        }
        _state = State.Drain;
        _dropped = 0;
        _timeouts.SetTimeout(_options.RequestBodyDrainTimeout, TimeoutReason.RequestBodyDrain);
    }

    /// <summary>Drops body bytes from <c>_input</c>; true once the body has ended and the next head may follow.</summary>
    private bool Drain()
    {
        while (true)
        {
            BodyDecodeStatus status;
            int consumed;
            try
            {
                status = _body.Decode(_input.Span, out consumed, out ReadOnlySpan<byte> data);
                _dropped += data.Length;
            }
            catch (HttpRejectException)
            {
                CloseAfterFlush(); // its answer is out already; the framing of what follows is unknown
                return false;
            }
            _input.Consume(consumed);
            if (status == BodyDecodeStatus.Done)
            {
                _state = State.Head;
                _timeouts.CancelTimeout();
                return true;
            }
            if (_dropped > _options.MaxRequestBodyDrainSize || (status == BodyDecodeStatus.NeedMoreData && _peerClosed))
            {
                CloseAfterFlush();
                return false;
            }
            if (status == BodyDecodeStatus.NeedMoreData)
            {
                return false;
            }
        }
    }

    private void ThrowIfNoRequest()
    {
        if (_state != State.Handler)
        {
            throw new InvalidOperationException("The request has completed: its body can no longer be read.");
        }
    }

    /// <summary>Keeps a chunked body's trailer fields apart from its headers (RFC 9110 §6.5).</summary>
    private readonly struct TrailerHandler(HttpRequest request) : IHttpTrailerHandler
    {
        public void OnTrailer(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => request.AddTrailer(name, value);
    }
}
