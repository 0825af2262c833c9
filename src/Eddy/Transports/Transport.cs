using System.Net;
using Eddy.Sockets;

namespace Eddy.Transports;

/// <summary>
/// A bidirectional byte stream driven by an event loop (asyncio's <c>Transport</c>): it reads from
/// the connection and calls its <see cref="Protocol"/>, and writes what the protocol gives it, buffering
/// what the connection cannot take yet. All members are for the loop thread.
/// </summary>
public abstract class Transport
{
    /// <summary>The protocol receiving this transport's events. Settable, to switch protocols (e.g. after an HTTP upgrade).</summary>
    public abstract Protocol Protocol { get; set; }

    /// <summary>Sends <paramref name="data"/>: at once when the connection can take it, else buffered and sent when it can.
    /// Never blocks. Ignored once the connection is lost.</summary>
    public abstract void Write(ReadOnlySpan<byte> data);

    /// <summary>Closes the write side (TCP FIN) once buffered data is sent; reading goes on.</summary>
    public abstract void WriteEof();

    /// <summary>True when <see cref="WriteEof"/> is supported.</summary>
    public virtual bool CanWriteEof => true;

    /// <summary>Stops reading, sends what is buffered, then closes; <see cref="Protocol.ConnectionLost"/> follows with null. Idempotent.</summary>
    public abstract void Close();

    /// <summary>Closes now, dropping buffered data; <see cref="Protocol.ConnectionLost"/> follows with null. Idempotent.</summary>
    public abstract void Abort();

    /// <summary>True once <see cref="Close"/> or <see cref="Abort"/> was called, or the connection failed.</summary>
    public abstract bool IsClosing { get; }

    /// <summary>Stops calling <see cref="Protocol.DataReceived"/> until <see cref="ResumeReading"/> (the peer is slowed by TCP flow control).</summary>
    public abstract void PauseReading();

    /// <summary>
    /// Undoes <see cref="PauseReading"/>: <see cref="Protocol.DataReceived"/> is called again as bytes arrive,
    /// starting with those the kernel held meanwhile. Does nothing when reading is not paused or the transport is closing.
    /// </summary>
    public abstract void ResumeReading();

    /// <summary>True while reading is not paused and the transport is not closing.</summary>
    public abstract bool IsReading { get; }

    /// <summary>Bytes written but not yet sent.</summary>
    public abstract int WriteBufferSize { get; }

    /// <summary>The high-water mark: the protocol is paused when the write buffer goes above it.</summary>
    public abstract int WriteBufferHighWaterMark { get; }

    /// <summary>The low-water mark: a paused protocol resumes when the write buffer drains to it.</summary>
    public abstract int WriteBufferLowWaterMark { get; }

    /// <summary>Sets the write-buffer limits (asyncio's defaults: 64 KiB high, a quarter of it low).</summary>
    public abstract void SetWriteBufferLimits(int high, int? low = null);

    /// <summary>The local address of the connection (getsockname(2)), or null once the connection is lost or when the transport has no address.</summary>
    public abstract EndPoint? LocalEndPoint { get; }

    /// <summary>The peer's address (getpeername(2)), or null once the connection is lost or when the transport has no address.</summary>
    public abstract EndPoint? RemoteEndPoint { get; }

    /// <summary>
    /// The underlying socket, for options (<see cref="NativeSocket.NoDelay"/> is on by default for TCP,
    /// buffer sizes, keep-alive), or null for a transport that has none (e.g. an in-memory one in tests).
    /// Do not read, write or close it directly: the transport owns it.
    /// </summary>
    public virtual NativeSocket? Socket => null;
}
