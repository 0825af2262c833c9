using System.Net;
using Eddy.Sockets;
using Microsoft.Win32.SafeHandles;

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

    /// <summary>
    /// True when <see cref="SendFile(SafeFileHandle, long, int)"/> works: the transport writes to a socket directly (no TLS or other encoding
    /// between), so file bytes can go from the page cache to the socket without passing through user space.
    /// </summary>
    public virtual bool CanSendFile => false;

    /// <summary>
    /// Sends <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/> with
    /// sendfile(2), in order after everything written before and before anything written after. The region counts
    /// in <see cref="WriteBufferSize"/> until sent, so a slow peer pauses the protocol as for <see cref="Write"/>.
    /// The transport keeps its own reference on the handle until the region is sent or dropped: the caller may
    /// dispose it at once. A file that turns out shorter than the region fails the connection (the peer was
    /// promised the bytes). Throws <see cref="NotSupportedException"/> unless <see cref="CanSendFile"/>.
    /// </summary>
    public void SendFile(SafeFileHandle file, long offset, int count) => SendFile([], file, offset, count);

    /// <summary>
    /// As <see cref="SendFile(SafeFileHandle, long, int)"/>, after <paramref name="header"/> (e.g. an HTTP response
    /// head), which is written first and may share the file's first packets instead of going in one of its own.
    /// </summary>
    public virtual void SendFile(ReadOnlySpan<byte> header, SafeFileHandle file, long offset, int count) =>
        throw new NotSupportedException($"{GetType().Name} cannot send files; check {nameof(CanSendFile)} and write the bytes instead.");

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
