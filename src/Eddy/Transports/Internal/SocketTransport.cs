using System.Net;
using System.Net.Sockets;
using Eddy.Loop;
using Eddy.Selectors;
using Eddy.Sockets;
using Microsoft.Win32.SafeHandles;

namespace Eddy.Transports.Internal;

/// <summary>Told when a connection it accepted is gone (the <see cref="Server"/> counts its connections).</summary>
internal interface IConnectionOwner
{
    void OnConnectionClosed(SocketTransport transport);
}

/// <summary>
/// The transport of a stream socket (TCP or Unix), after asyncio's <c>_SelectorSocketTransport</c>.
/// Reads into the loop's shared buffer and hands the bytes to the protocol without a copy; writes go
/// straight to the socket and only what the socket cannot take is buffered, then flushed with writev
/// when it becomes writable. A failure takes one path (<see cref="Fail"/>) and the protocol hears
/// <see cref="Protocol.ConnectionLost"/> exactly once, in a later callback. Loop thread only.
/// <para>
/// On a loop whose selector does the ring's own I/O (<see cref="IoUringSelector.RingIo"/>), reading and sending are
/// ring requests instead (SocketTransport.Ring.cs); everything else — the buffer, the water marks, EOF, closing, the
/// one failure path — is this file's, for both.
/// </para>
/// </summary>
internal sealed partial class SocketTransport : Transport
{
    private const int DefaultHighWaterMark = 64 * 1024;

    private static readonly Action<object?> s_onReadable = static s => ((SocketTransport)s!).OnReadable();
    private static readonly Action<object?> s_onWritable = static s => ((SocketTransport)s!).OnWritable();
    private static readonly Action<object?> s_callConnectionLost = static s => ((SocketTransport)s!).CallConnectionLost();

    private readonly EventLoop _loop;
    private readonly NativeSocket _socket;
    private readonly int _fd; // immutable until the socket is disposed in CallConnectionLost
    private readonly IConnectionOwner? _owner;
    private readonly WriteBuffer _buffer = new();
    private Protocol _protocol;

    private bool _closing;          // Close/Abort called or failed: no more reading
    private bool _connectionLost;   // ConnectionLost is scheduled or done: no more writing
    private bool _readingPaused;
    private bool _eofReceived;
    private bool _eofRequested;     // WriteEof called: shutdown(SHUT_WR) once the buffer drains
    private bool _protocolPaused;
    private bool _writerArmed;
    private Exception? _lostError;
    private int _highWater = DefaultHighWaterMark;
    private int _lowWater = DefaultHighWaterMark / 4;

    // Metrics (TransportMetrics), set on accept by the server, read when the connection closes; loop thread only.
    internal KeyValuePair<string, object?>[]? MetricTags;
    internal bool CountedActive;
    internal long AcceptedAt;

    public SocketTransport(EventLoop loop, NativeSocket socket, Protocol protocol, IConnectionOwner? owner)
    {
        _loop = loop;
        _socket = socket;
        _fd = socket.Fd;
        _protocol = protocol;
        _owner = owner;
        if (loop.Selector is IoUringSelector { RingIo: true } ring)
        {
            _ring = ring;
            _slot = ring.Attach(this);
        }
    }

    /// <summary>Calls ConnectionMade, then starts reading (unless the protocol paused or closed us meanwhile).</summary>
    public void Start()
    {
        try
        {
            _protocol.ConnectionMade(this);
        }
        catch (Exception e)
        {
            Fail(e, "Fatal error: protocol.ConnectionMade() failed");
            return;
        }
        if (!_closing && !_readingPaused)
        {
            StartReading();
        }
    }

    private void StartReading()
    {
        if (_ring is not null)
        {
            RingStartReading();
        }
        else
        {
            _loop.AddReader(_fd, s_onReadable, this);
        }
    }

    public override NativeSocket Socket => _socket;

    public override Protocol Protocol
    {
        get => _protocol;
        set => _protocol = value ?? throw new ArgumentNullException(nameof(value));
    }

    public override bool IsClosing => _closing;

    public override bool IsReading => !_closing && !_readingPaused && !_eofReceived;

    public override int WriteBufferSize => _buffer.Length;

    public override int WriteBufferHighWaterMark => _highWater;

    public override int WriteBufferLowWaterMark => _lowWater;

    public override bool CanWriteEof => true;

    public override EndPoint? LocalEndPoint => _connectionLost ? null : _socket.LocalEndPoint;

    public override EndPoint? RemoteEndPoint => _connectionLost ? null : _socket.RemoteEndPoint;

    public override void SetWriteBufferLimits(int high, int? low = null)
    {
        int lowWater = low ?? high / 4;
        if (high < 0 || lowWater < 0 || lowWater > high)
        {
            throw new ArgumentOutOfRangeException(nameof(high), $"need 0 <= low ({lowWater}) <= high ({high})");
        }
        _highWater = high;
        _lowWater = lowWater;
        MaybePauseProtocol();
        MaybeResumeProtocol();
    }

    public override void Write(ReadOnlySpan<byte> data)
    {
        if (_eofRequested)
        {
            throw new InvalidOperationException("Cannot Write after WriteEof.");
        }
        if (_connectionLost || data.IsEmpty)
        {
            return; // like asyncio: writing to a lost connection is not an error for the writer
        }
        if (_ring is not null)
        {
            RingQueue(data);
            MaybePauseProtocol();
        }
        else if (SendOrQueue(data, more: false))
        {
            MaybePauseProtocol();
        }
    }

    /// <summary>
    /// Sends <paramref name="data"/> at once when nothing is queued ahead of it (most writes fit in the socket buffer
    /// and never touch ours), and queues what the socket did not take, arming the writer. <paramref name="more"/>:
    /// send(2) with MSG_MORE, so the bytes wait to share segments with what follows. False when the connection failed.
    /// </summary>
    private bool SendOrQueue(ReadOnlySpan<byte> data, bool more)
    {
        if (_buffer.IsEmpty)
        {
            int n = more ? _socket.SendMore(data, out Errno errno) : _socket.Send(data, out errno);
            if (n == -1)
            {
                if (errno != Errno.EAGAIN)
                {
                    Fail(new PosixException(errno, "send", _fd), "Fatal write error on socket transport");
                    return false;
                }
                n = 0;
            }
            if (n == data.Length)
            {
                return true;
            }
            data = data[n..];
            ArmWriter();
        }
        _buffer.Append(data);
        return true;
    }

    private void ArmWriter()
    {
        _loop.AddWriter(_fd, s_onWritable, this);
        _writerArmed = true;
    }

    public override bool CanSendFile => true;

    public override void SendFile(ReadOnlySpan<byte> header, SafeFileHandle file, long offset, int count)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_eofRequested)
        {
            throw new InvalidOperationException("Cannot SendFile after WriteEof.");
        }
        if (_connectionLost)
        {
            return;
        }
        // MSG_MORE: the header waits for the file's bytes and leaves in the same segments (nginx's tcp_nopush does
        // this with TCP_CORK); a small packet of its own costs the peer a wake-up and a read per response.
        if (_ring is not null)
        {
            RingQueue(header);
            RingQueueFile(file, offset, count);
            MaybePauseProtocol();
            return;
        }
        if (!header.IsEmpty && !SendOrQueue(header, more: count > 0))
        {
            return;
        }
        if (count == 0)
        {
            MaybePauseProtocol();
            return;
        }
        if (_buffer.IsEmpty)
        {
            // As in Write: most files that fit the socket buffer leave at once and are never queued.
            long n = _socket.SendFile(file, ref offset, count, out Errno errno);
            if (n == -1 && errno != Errno.EAGAIN)
            {
                Fail(new PosixException(errno, "sendfile", _fd), "Fatal write error on socket transport");
                return;
            }
            if (n == 0)
            {
                FailShortFile();
                return;
            }
            if (n == count)
            {
                return;
            }
            count -= (int)Math.Max(n, 0);
            ArmWriter();
        }
        _buffer.AppendFile(file, offset, count);
        MaybePauseProtocol();
    }

    public override void WriteEof()
    {
        if (_closing || _eofRequested)
        {
            return;
        }
        _eofRequested = true;
        if (_buffer.IsEmpty)
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
    }

    public override void Close()
    {
        if (_closing)
        {
            return;
        }
        _closing = true;
        StopReading();
        if (_buffer.IsEmpty)
        {
            ScheduleConnectionLost(null);
        }
        // else: OnWritable finishes the flush and then calls ConnectionLost.
    }

    public override void Abort() => ForceClose(null);

    public override void PauseReading()
    {
        if (_closing || _readingPaused)
        {
            return;
        }
        _readingPaused = true;
        StopReading();
    }

    public override void ResumeReading()
    {
        if (_closing || !_readingPaused)
        {
            return;
        }
        _readingPaused = false;
        if (!_eofReceived)
        {
            StartReading();
        }
    }

    public override string ToString() => $"SocketTransport(fd {_fd}{(_closing ? ", closing" : "")})";

    private void OnReadable()
    {
        byte[] buffer = _loop.SharedReadBuffer;
        int n = _socket.Receive(buffer, out Errno errno);
        if (n > 0)
        {
            try
            {
                _protocol.DataReceived(new ReadOnlySpan<byte>(buffer, 0, n));
            }
            catch (Exception e)
            {
                Fail(e, "Fatal error: protocol.DataReceived() failed");
            }
        }
        else if (n == 0)
        {
            OnEof();
        }
        else if (errno != Errno.EAGAIN)
        {
            Fail(new PosixException(errno, "recv", _fd), "Fatal read error on socket transport");
        }
    }

    private void OnEof()
    {
        _eofReceived = true;
        StopReading(); // level-triggered: EOF stays "readable" forever
        bool keepOpen;
        try
        {
            keepOpen = _protocol.EofReceived();
        }
        catch (Exception e)
        {
            Fail(e, "Fatal error: protocol.EofReceived() failed");
            return;
        }
        if (!keepOpen)
        {
            Close();
        }
    }

    private void OnWritable()
    {
        if (_ring is not null)
        {
            RingOnWritable();
            return;
        }
        // Send until the buffer is empty or the socket is full: a file region stops a writev, so the bytes before
        // it, the file, and the bytes after it each take a call.
        while (!_buffer.IsEmpty)
        {
            long n;
            long attempted;
            Errno errno;
            if (_buffer.HeadIsFile)
            {
                (SafeFileHandle file, long offset, long remaining) = _buffer.HeadFile;
                attempted = remaining;
                n = _socket.SendFile(file, ref offset, remaining, out errno);
                if (n == 0)
                {
                    FailShortFile();
                    return;
                }
            }
            else
            {
                n = SendGathered(out attempted, out errno);
            }
            if (n == -1)
            {
                if (errno != Errno.EAGAIN)
                {
                    Fail(new PosixException(errno, _buffer.HeadIsFile ? "sendfile" : "writev", _fd), "Fatal write error on socket transport");
                }
                return;
            }
            _buffer.Consume(n);
            MaybeResumeProtocol();
            if (n < attempted || _connectionLost)
            {
                return; // the socket is full (or a callback closed us): wait for the next writable event
            }
        }
        _loop.RemoveWriter(_fd);
        _writerArmed = false;
        OnDrained();
    }

    /// <summary>One writev(2) of the buffered bytes up to the first file region (the buffer is not consumed).</summary>
    private long SendGathered(out long attempted, out Errno errno)
    {
        ReadOnlyMemory<byte>[] segments = _loop.WriteSegments;
        int count = _buffer.Gather(segments, out attempted);
        long n = _socket.Send(segments.AsSpan(0, count), out errno);
        Array.Clear(segments, 0, count);
        return n;
    }

    /// <summary>Everything written has left: a pending close or <see cref="WriteEof"/> happens now.</summary>
    private void OnDrained()
    {
        if (_closing)
        {
            ScheduleConnectionLost(null);
        }
        else if (_eofRequested)
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
    }

    /// <summary>sendfile(2) found the file's end before the region's: the peer was promised bytes that do not exist.</summary>
    private void FailShortFile() =>
        Fail(new IOException("The file ended before the region being sent (it was truncated meanwhile)."), "Fatal write error on socket transport");

    private void MaybePauseProtocol()
    {
        if (_protocolPaused || _buffer.Length <= _highWater)
        {
            return;
        }
        _protocolPaused = true;
        try
        {
            _protocol.PauseWriting();
        }
        catch (Exception e)
        {
            _loop.CallExceptionHandler(new LoopExceptionContext("protocol.PauseWriting() failed", e, source: this));
        }
    }

    private void MaybeResumeProtocol()
    {
        if (!_protocolPaused || _buffer.Length > _lowWater)
        {
            return;
        }
        _protocolPaused = false;
        try
        {
            _protocol.ResumeWriting();
        }
        catch (Exception e)
        {
            _loop.CallExceptionHandler(new LoopExceptionContext("protocol.ResumeWriting() failed", e, source: this));
        }
    }

    /// <summary>The one failure path: report what is unexpected, then close now.</summary>
    private void Fail(Exception error, string message)
    {
        // A peer that resets or vanishes is ordinary network weather, not a bug worth a report.
        if (error is not PosixException { IsConnectionLoss: true })
        {
            _loop.CallExceptionHandler(new LoopExceptionContext(message, error, source: this));
        }
        ForceClose(error);
    }

    private void ForceClose(Exception? error)
    {
        if (_connectionLost)
        {
            return;
        }
        if (_ring is not null)
        {
            RingAbandonWrites(sendWhatFits: error is null);
        }
        else
        {
            _buffer.Clear();
        }
        if (_writerArmed)
        {
            _loop.RemoveWriter(_fd);
            _writerArmed = false;
        }
        if (!_closing)
        {
            _closing = true;
            StopReading();
        }
        ScheduleConnectionLost(error);
    }

    private void StopReading()
    {
        if (_ring is not null)
        {
            RingStopReading();
        }
        else if (!_connectionLost)
        {
            _loop.RemoveReader(_fd);
        }
    }

    private void ScheduleConnectionLost(Exception? error)
    {
        if (_connectionLost)
        {
            return;
        }
        _connectionLost = true;
        _lostError = error;
        _loop.CallSoon(s_callConnectionLost, this);
    }

    private void CallConnectionLost()
    {
        try
        {
            _protocol.ConnectionLost(_lostError);
        }
        catch (Exception e)
        {
            _loop.CallExceptionHandler(new LoopExceptionContext("protocol.ConnectionLost() failed", e, source: this));
        }
        finally
        {
            _loop.RemoveReader(_fd);
            _loop.RemoveWriter(_fd);
            _socket.Dispose(); // a ring request still in flight holds the socket open until its cancellation lands
            _lostError = null;
            RingDetachIfIdle();
            _owner?.OnConnectionClosed(this);
        }
    }
}
