using System.Net;
using Eddy.Loop;
using Eddy.Sockets;

namespace Eddy.Transports;

/// <summary>
/// A UDP (or Unix datagram) endpoint driven by a loop (asyncio's <c>DatagramTransport</c>): datagrams
/// are sent at once when the socket has room, queued otherwise; received ones go to the protocol.
/// Loop thread only.
/// </summary>
public sealed class DatagramTransport
{
    private static readonly Action<object?> s_onReadable = static s => ((DatagramTransport)s!).OnReadable();
    private static readonly Action<object?> s_onWritable = static s => ((DatagramTransport)s!).OnWritable();
    private static readonly Action<object?> s_callConnectionLost = static s => ((DatagramTransport)s!).CallConnectionLost();

    private readonly EventLoop _loop;
    private readonly NativeSocket _socket;
    private readonly int _fd;
    private readonly Queue<(byte[] Data, EndPoint? Remote)> _pending = new();
    private DatagramProtocol _protocol;
    private bool _closing;
    private bool _connectionLost;
    private Exception? _lostError;

    internal DatagramTransport(EventLoop loop, NativeSocket socket, DatagramProtocol protocol, EndPoint? remote)
    {
        _loop = loop;
        _socket = socket;
        _fd = socket.Fd;
        _protocol = protocol;
        RemoteEndPoint = remote;
    }

    /// <summary>The protocol receiving this endpoint's datagrams and errors. Settable, to hand the endpoint to another protocol; not null.</summary>
    public DatagramProtocol Protocol
    {
        get => _protocol;
        set => _protocol = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The local address (getsockname(2): for a socket bound to port 0, the port the kernel picked), or null once the endpoint is closed.</summary>
    public EndPoint? LocalEndPoint => _connectionLost ? null : _socket.LocalEndPoint;

    /// <summary>The fixed peer when created with a remote address (the socket is connected), else null.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>True once the endpoint is closing: <see cref="Close"/> or <see cref="Abort()"/> was called, or the protocol's ConnectionMade or DatagramReceived threw. No datagram is received after that.</summary>
    public bool IsClosing => _closing;

    /// <summary>Bytes queued because the socket had no room.</summary>
    public int WriteBufferSize { get; private set; }

    internal void Start()
    {
        try
        {
            _protocol.ConnectionMade(this);
        }
        catch (Exception e)
        {
            _loop.CallExceptionHandler(new LoopExceptionContext("Fatal error: protocol.ConnectionMade() failed", e, source: this));
            Abort(e);
            return;
        }
        if (!_closing)
        {
            _loop.AddReader(_fd, s_onReadable, this);
        }
    }

    /// <summary>Sends one datagram to <paramref name="remote"/>, or to the connected peer when null.</summary>
    public void SendTo(ReadOnlySpan<byte> data, EndPoint? remote = null)
    {
        if (_connectionLost)
        {
            return;
        }
        if (remote is null && RemoteEndPoint is null)
        {
            throw new InvalidOperationException("SendTo needs a remote address: this endpoint was created without one.");
        }
        if (remote is not null && RemoteEndPoint is not null && !remote.Equals(RemoteEndPoint))
        {
            throw new ArgumentException($"This endpoint is connected to {RemoteEndPoint}; it cannot send to {remote}.", nameof(remote));
        }
        if (_pending.Count == 0)
        {
            int n = remote is null ? _socket.Send(data, out Errno errno) : _socket.SendTo(data, remote, out errno);
            if (n >= 0)
            {
                return;
            }
            if (errno != Errno.EAGAIN)
            {
                ReportError(new PosixException(errno, "sendto", _fd));
                return;
            }
            _loop.AddWriter(_fd, s_onWritable, this);
        }
        _pending.Enqueue((data.ToArray(), remote));
        WriteBufferSize += data.Length;
    }

    /// <summary>Stops receiving, sends what is queued, then closes. Idempotent.</summary>
    public void Close()
    {
        if (_closing)
        {
            return;
        }
        _closing = true;
        _loop.RemoveReader(_fd);
        if (_pending.Count == 0)
        {
            ScheduleConnectionLost(null);
        }
    }

    /// <summary>Closes now, dropping queued datagrams.</summary>
    public void Abort() => Abort(null);

    private void Abort(Exception? error)
    {
        _closing = true;
        _pending.Clear();
        WriteBufferSize = 0;
        if (!_connectionLost)
        {
            _loop.RemoveReader(_fd);
            _loop.RemoveWriter(_fd);
        }
        ScheduleConnectionLost(error);
    }

    private void OnReadable()
    {
        byte[] buffer = _loop.SharedReadBuffer;
        int n = _socket.ReceiveFrom(buffer, out EndPoint? remote, out Errno errno);
        if (n >= 0)
        {
            try
            {
                _protocol.DatagramReceived(new ReadOnlySpan<byte>(buffer, 0, n), remote ?? RemoteEndPoint!);
            }
            catch (Exception e)
            {
                _loop.CallExceptionHandler(new LoopExceptionContext("Fatal error: protocol.DatagramReceived() failed", e, source: this));
                Abort(e);
            }
        }
        else if (errno != Errno.EAGAIN)
        {
            ReportError(new PosixException(errno, "recvfrom", _fd));
        }
    }

    private void OnWritable()
    {
        while (_pending.TryPeek(out var datagram))
        {
            int n = datagram.Remote is null ? _socket.Send(datagram.Data, out Errno errno) : _socket.SendTo(datagram.Data, datagram.Remote, out errno);
            if (n == -1 && errno == Errno.EAGAIN)
            {
                return;
            }
            _pending.Dequeue();
            WriteBufferSize -= datagram.Data.Length;
            if (n == -1)
            {
                ReportError(new PosixException(errno, "sendto", _fd));
            }
        }
        _loop.RemoveWriter(_fd);
        if (_closing)
        {
            ScheduleConnectionLost(null);
        }
    }

    private void ReportError(Exception error)
    {
        try
        {
            _protocol.ErrorReceived(error);
        }
        catch (Exception e)
        {
            _loop.CallExceptionHandler(new LoopExceptionContext("protocol.ErrorReceived() failed", e, source: this));
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
            _socket.Dispose();
        }
    }
}
