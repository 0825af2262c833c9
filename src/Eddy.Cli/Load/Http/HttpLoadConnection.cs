using System.Diagnostics;
using Eddy.Http.Parsing.Internal;
using Eddy.Internal;
using Eddy.Interop;
using Eddy.Transports;

namespace Eddy.Cli.Load.Http;

/// <summary>
/// One keep-alive connection of the load generator: a <see cref="Protocol"/> on its worker's loop that
/// writes requests (a batch of <see cref="HttpLoadSettings.Pipeline"/> in one write), frames the responses
/// in place as they arrive, and reconnects when the server closes. The slot outlives its TCP connections:
/// buffers and schedule carry over a reconnect. Loop thread only.
/// <code>
/// Connect -> ConnectionMade -> (SendReady -> DataReceived*)* -> [EofReceived] -> ConnectionLost -> Connect …
/// </code>
/// Every request ends as one response or one error, so with <c>-n</c> the run ends when all have ended.
/// Over TLS the transport is a <see cref="Eddy.Tls.TlsTransport"/> with the same contract: nothing here changes.
/// With <see cref="HttpLoadSettings.NewConnectionPerRequest"/> each connection carries one request and is closed after
/// its response, and the slot connects again: a connect (and handshake) per request.
/// Latency runs from a request's intended send time — its write, or with <c>-R</c> its slot in the
/// schedule (wrk2's correction for coordinated omission) — to the last byte of its response.
/// <para>
/// A streamed body (<see cref="HttpLoadSettings.Body"/>, a mapped file) is written request by request: the head,
/// then the file a chunk at a time straight from the mapping, for as long as the socket takes each chunk whole.
/// The transport's write buffer limits are set to 0, so the first chunk the socket cannot take whole pauses the
/// writing (<see cref="PauseWriting"/>) and the rest of that chunk is all the transport buffers; writing goes on
/// once it has gone (<see cref="ResumeWriting"/>). Pipelined requests follow one another in the same stream.
/// </para>
/// </summary>
internal sealed class HttpLoadConnection : Protocol
{
    /// <summary>A split head is completed from the next read at least this much at a time (see <see cref="ConsumeWithCarry"/>).</summary>
    private const int CarryStep = 4 * 1024;

    /// <summary>The most a split head may hold while its end is awaited: the reader's limit and the blank line.</summary>
    private const int MaxCarry = HttpResponseReader.MaxHeadBytes + 4;

    /// <summary>A streamed body goes to the transport in writes of at most this much, so at most this much ever waits in
    /// its buffer beyond the kernel's (the transport's default high-water mark).</summary>
    internal const int BodyChunk = 64 * 1024;

    private readonly HttpLoadWorker _worker;
    private readonly HttpResponseReader _reader;
    private readonly int _depth;
    private readonly long[] _intendedAt; // ring of the requests in flight, oldest at _first: when each was due
    private readonly long[] _sentAt;     // … and when it was written
    private readonly long _scheduleOffset; // -R: when request 0 of this connection is due, in Stopwatch ticks from the start
    private readonly double _interval;    // -R: ticks between this connection's requests
    private Transport? _transport;
    private int _first;
    private int _inFlight;
    private long _toSend;    // requests this connection may still start (long.MaxValue without -n)
    private long _scheduled; // -R: index of the next request in this connection's schedule
    private readonly ByteBuffer _carry = new(); // an incomplete head (or trailer line) split by a read, kept until the rest arrives
    private bool _isEnding;         // the connection ends after this response (the server said it would close, or one request per connection): reconnect at once, not an error
    private bool _isAborted;        // we closed it after counting why: ConnectionLost counts nothing more
    private readonly MappedFile? _body; // a streamed body, or null when the whole request is in the worker's batch
    private int _writeBacklog;      // streamed: requests in flight (the last ones) whose writing has not begun
    private long _writeOffset;      // streamed: how much of the request being written has gone (head, then body); 0 between requests
    private bool _isWritePaused;    // streamed: the transport holds bytes the socket did not take; wait for ResumeWriting
    private long _lastBodyWriteAt;  // streamed: when a chunk last went to the transport, which takes one only once the socket has taken the last
    private readonly bool _isOneRequestPerConnection; // --new-connection-per-request
    private long _connectStartedAt; // when the pending connect began (Stopwatch ticks)
    private long _tcpConnectedAt;   // when its TCP connect completed: the factory runs then, before any TLS handshake

    public HttpLoadConnection(HttpLoadWorker worker, long toSend, long scheduleOffset, double interval)
    {
        _worker = worker;
        _depth = worker.Settings.Pipeline;
        _reader = new HttpResponseReader(worker.Settings.IsHeadRequest);
        _intendedAt = new long[_depth];
        _sentAt = new long[_depth];
        _toSend = toSend;
        _scheduleOffset = scheduleOffset;
        _interval = interval;
        _body = worker.Settings.Body;
        _isOneRequestPerConnection = worker.Settings.NewConnectionPerRequest;
        Factory = () =>
        {
            _tcpConnectedAt = Stopwatch.GetTimestamp();
            return this;
        };
    }

    public HttpLoadWorker Worker => _worker;

    /// <summary>
    /// For <c>ConnectAsync</c>: the slot is its own protocol on every connection. Both connects (TCP and TLS) call it
    /// once the TCP connect has completed, so the time from then to <see cref="ConnectionMade"/> is the TLS handshake.
    /// </summary>
    public Func<HttpLoadConnection> Factory { get; }

    public bool IsConnected => _transport is not null;

    /// <summary>Set while a connect is pending, so the slot is not connected twice.</summary>
    public bool IsConnecting { get; set; }

    /// <summary>A connect begins now: the connect and handshake times count from here.</summary>
    public void OnConnectStarting() => _connectStartedAt = Stopwatch.GetTimestamp();

    /// <summary>Every request this slot was given has ended (only with <c>-n</c>).</summary>
    public bool IsDone => _toSend == 0 && _inFlight == 0;

    /// <summary>The timeout of a connect in progress: cancelled when the run stops.</summary>
    public CancellationTokenSource? PendingConnect { get; set; }

    /// <summary>Set once the worker has counted this slot as done.</summary>
    public bool IsFinished { get; set; }

    /// <summary>
    /// Stopwatch ticks from which the oldest request in flight counts towards its timeout, or 0 when none is: its
    /// write, or the last time a chunk of a streamed body went out if that is later (an upload that keeps moving is
    /// not late, however long it takes).
    /// </summary>
    public long WaitingSince => _inFlight > 0 ? Math.Max(_sentAt[_first], _lastBodyWriteAt) : 0;

    public override void ConnectionMade(Transport transport)
    {
        IsConnecting = false;
        _transport = transport;
        _worker.RecordConnection(transport, _tcpConnectedAt - _connectStartedAt, Stopwatch.GetTimestamp() - _tcpConnectedAt);
        _first = 0;
        _inFlight = 0;
        _carry.Consume(_carry.Length);
        _isEnding = false;
        _isAborted = false;
        _writeBacklog = 0;
        _writeOffset = 0;
        _isWritePaused = false;
        _reader.Reset();
        if (_body is not null)
        {
            transport.SetWriteBufferLimits(0); // pause as soon as the socket leaves part of a write over
        }
        if (_worker.IsStopping || IsDone)
        {
            Abort();
            return;
        }
        SendReady();
    }

    /// <summary>
    /// Writes what may go now. As fast as possible: a new batch once the last one is answered (as wrk
    /// does). With <c>-R</c>: every request whose time has come, up to the pipeline depth in flight; a
    /// server that falls behind delays the writes but not the schedule.
    /// </summary>
    public void SendReady()
    {
        Transport? transport = _transport;
        if (transport is null || _toSend == 0 || _worker.IsStopping)
        {
            return;
        }
        long now = Stopwatch.GetTimestamp();
        int count = 0;
        if (!_worker.Settings.IsPaced)
        {
            if (_inFlight > 0)
            {
                return;
            }
            count = (int)Math.Min(_depth, _toSend);
            for (int i = 0; i < count; i++)
            {
                Push(now, now);
            }
        }
        else
        {
            while (_inFlight < _depth && count < _toSend)
            {
                long due = _worker.StartTimestamp + _scheduleOffset + (long)(_scheduled * _interval);
                if (due > now + HttpLoadWorker.PacingLeadTicks)
                {
                    _worker.ArmTicker(due - HttpLoadWorker.PacingLeadTicks);
                    break;
                }
                // Up to a timer tick early (see PacingLeadTicks): then the latency counts from the actual write.
                Push(Math.Min(due, now), now);
                _scheduled++;
                count++;
            }
            if (count == 0)
            {
                return;
            }
        }
        if (_worker.HasRequestLimit)
        {
            _toSend -= count;
        }
        _worker.RequestsSent += count;
        if (_body is null)
        {
            transport.Write(_worker.RequestBatch.AsSpan(0, count * _worker.RequestLength));
        }
        else
        {
            _writeBacklog += count;
            WriteStreamed(transport);
        }
    }

    /// <summary>
    /// Streamed body: writes what is waiting — the request being written, then each in the backlog, head then body —
    /// until the transport pauses us or nothing is left. The body goes from the mapping to the socket; only the part
    /// of a chunk the socket does not take at once is copied (into the transport's buffer, and then we pause).
    /// </summary>
    private void WriteStreamed(Transport transport)
    {
        MappedFile body = _body!;
        byte[] head = _worker.Settings.Request;
        while (!_isWritePaused && !transport.IsClosing && (_writeOffset > 0 || _writeBacklog > 0))
        {
            if (_writeOffset == 0)
            {
                StartNextWrite();
                transport.Write(head);
                _writeOffset = head.Length;
                continue;
            }
            long sent = _writeOffset - head.Length;
            int chunk = (int)Math.Min(BodyChunk, body.Length - sent);
            transport.Write(body.Slice(sent, chunk));
            _lastBodyWriteAt = Stopwatch.GetTimestamp();
            _writeOffset = sent + chunk == body.Length ? 0 : _writeOffset + chunk;
        }
    }

    /// <summary>The oldest request of the backlog begins to go out: its latency counts from now (with <c>-R</c>, the uncorrected one).</summary>
    private void StartNextWrite()
    {
        int slot = _first + _inFlight - _writeBacklog;
        if (slot >= _depth)
        {
            slot -= _depth;
        }
        long now = Stopwatch.GetTimestamp();
        _sentAt[slot] = now;
        if (!_worker.Settings.IsPaced)
        {
            _intendedAt[slot] = now;
        }
        _writeBacklog--;
    }

    public override void PauseWriting() => _isWritePaused = true;

    public override void ResumeWriting()
    {
        _isWritePaused = false;
        if (_body is not null && _transport is { } transport)
        {
            WriteStreamed(transport);
        }
    }

    private void Push(long intendedAt, long sentAt)
    {
        int slot = _first + _inFlight;
        if (slot >= _depth)
        {
            slot -= _depth;
        }
        _intendedAt[slot] = intendedAt;
        _sentAt[slot] = sentAt;
        _inFlight++;
    }

    public override void DataReceived(ReadOnlySpan<byte> data)
    {
        _worker.BytesRead += data.Length;
        if (_carry.IsEmpty)
        {
            int used = Consume(data);
            if (used < data.Length && _transport is not null)
            {
                Keep(data[used..]);
            }
        }
        else
        {
            ConsumeWithCarry(data);
        }
        if (_transport is not null && !_isAborted && !_isEnding)
        {
            SendReady();
        }
    }

    /// <summary>Frames every complete response in <paramref name="input"/>; returns how many bytes were used (the rest is an incomplete head).</summary>
    private int Consume(ReadOnlySpan<byte> input)
    {
        int position = 0;
        while (position < input.Length)
        {
            if (_inFlight <= _writeBacklog) // none in flight, or (streamed) none of them written yet
            {
                Fail(LoadErrorKind.Read, "response without a request", _inFlight);
                return input.Length;
            }
            ResponseReadStatus status;
            int used;
            try
            {
                status = _reader.Read(input[position..], out used);
            }
            catch (HttpResponseFormatException e)
            {
                Fail(LoadErrorKind.Read, e.Message, _inFlight);
                return input.Length;
            }
            position += used;
            if (status == ResponseReadStatus.NeedMoreData)
            {
                return position;
            }
            OnResponse();
            if (_isEnding || _transport is null)
            {
                return input.Length;
            }
        }
        return position;
    }

    /// <summary>
    /// The slow path: a head was split by the last read. Append to the kept bytes until it completes, then go back
    /// to reading in place. Each step takes as much as is kept already (at least <see cref="CarryStep"/>), so a head
    /// that ends soon costs a small copy and a long one copies in proportion to its length.
    /// </summary>
    private void ConsumeWithCarry(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int take = Math.Min(data.Length, Math.Min(Math.Max(_carry.Length, CarryStep), MaxCarry - _carry.Length));
            if (take == 0)
            {
                FailOverlongHead();
                return;
            }
            _carry.Append(data[..take]);
            data = data[take..];
            int used = Consume(_carry.Span);
            if (_transport is null || _isAborted || _isEnding)
            {
                return;
            }
            _carry.Consume(used);
            if (_carry.IsEmpty)
            {
                int rest = Consume(data);
                if (rest < data.Length && _transport is not null)
                {
                    Keep(data[rest..]);
                }
                return;
            }
        }
    }

    private void Keep(ReadOnlySpan<byte> rest)
    {
        if (_isAborted || _isEnding)
        {
            return;
        }
        if (rest.Length > MaxCarry)
        {
            FailOverlongHead();
            return;
        }
        _carry.Append(rest);
    }

    private void FailOverlongHead() =>
        Fail(LoadErrorKind.Read, $"response head over {HttpResponseReader.MaxHeadBytes / 1024} KiB", _inFlight);

    private void OnResponse()
    {
        long now = Stopwatch.GetTimestamp();
        int first = _first;
        _worker.RecordResponse(_reader.StatusCode, now - _intendedAt[first], now - _sentAt[first]);
        _first = first + 1 == _depth ? 0 : first + 1;
        _inFlight--;
        if (_reader.IsConnectionClose || (_isOneRequestPerConnection && _inFlight == 0))
        {
            // The server closes after this response: what else was pipelined will not be answered.
            if (_inFlight > 0)
            {
                _worker.CountError(LoadErrorKind.Read, "closed by the server with requests pending", _inFlight);
                _inFlight = 0;
            }
            _isEnding = true;
            if (!_isOneRequestPerConnection)
            {
                _worker.ClosedByServer++; // with one request per connection, the close was asked for
            }
            _transport!.Close();
        }
        else if (IsDone)
        {
            _transport!.Close();
        }
    }

    public override bool EofReceived()
    {
        if (_reader.TryCompleteAtEof() && _inFlight > 0)
        {
            OnResponse(); // a body that ran until the close
        }
        else if (_inFlight > 0 && !_worker.IsStopping)
        {
            _worker.CountError(LoadErrorKind.Read, "closed before the response", _inFlight);
            _inFlight = 0;
        }
        return false;
    }

    public override void ConnectionLost(Exception? error)
    {
        _transport = null;
        _carry.Release();
        if (_worker.IsStopping)
        {
            return;
        }
        if (!_isAborted && (error is not null || _inFlight > 0))
        {
            // A failed send is a write error, anything else (a reset, a failed recv) a read error.
            LoadErrorKind kind = error is PosixException { Operation: "send" or "writev" } ? LoadErrorKind.Write : LoadErrorKind.Read;
            string cause = error is PosixException p ? p.ErrnoName : error?.GetType().Name ?? "closed before the response";
            _worker.CountError(kind, cause, Math.Max(_inFlight, 1));
        }
        _inFlight = 0;
        _worker.OnConnectionLost(this);
    }

    /// <summary>The oldest request in flight is overdue: every request in flight counts as a timeout, and the connection starts over.</summary>
    public void TimeOut()
    {
        _worker.CountError(LoadErrorKind.Timeout, "no response in time", _inFlight);
        _inFlight = 0;
        Abort();
    }

    /// <summary>A connect failed: with <c>-n</c>, one request ends as that error, so a dead server cannot keep the run going.</summary>
    public void OnConnectFailed()
    {
        IsConnecting = false;
        if (_worker.HasRequestLimit && _toSend > 0)
        {
            _toSend--;
        }
    }

    private void Fail(LoadErrorKind kind, string cause, int requests)
    {
        _worker.CountError(kind, cause, Math.Max(requests, 1));
        _inFlight = 0;
        Abort();
    }

    /// <summary>Closes at once without counting anything (the caller counted why).</summary>
    public void Abort()
    {
        _isAborted = true;
        _carry.Consume(_carry.Length); // not Release: this may run inside Consume(_carry.Span)
        _transport?.Abort();
    }
}
