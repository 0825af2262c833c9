using System.Net;
using Eddy.Loop.Internal;
using Eddy.Sockets;

namespace Eddy.Loop;

// Socket operations as awaitables (asyncio's loop.sock_* family). Each tries the non-blocking syscall
// first and waits for readiness only when it would block; completion sources are reused per socket,
// so an await allocates nothing in steady state. Loop thread only.
public sealed partial class EventLoop
{
    /// <summary>Receives up to <paramref name="buffer"/>.Length bytes; 0 means the peer closed its side.
    /// A peer reset fails this operation with a <see cref="PosixException"/> (ECONNRESET).</summary>
    public ValueTask<int> SockRecvAsync(NativeSocket socket, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckLoopCall(nameof(SockRecvAsync));
        var state = socket.LoopState as SocketLoopState;
        state?.ThrowIfBusy(this, readSide: true, nameof(SockRecvAsync));
        if (state is null || state.ReadMaybeReady || buffer.IsEmpty)
        {
            int n = socket.Receive(buffer.Span, out Errno errno);
            if (n >= 0)
            {
                if (state is not null && n < buffer.Length && n > 0)
                {
                    state.ReadMaybeReady = false;
                }
                return new ValueTask<int>(n);
            }
            if (errno != Errno.EAGAIN)
            {
                return ValueTask.FromException<int>(new PosixException(errno, "recv", socket.Fd));
            }
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }
        state ??= GetSocketState(socket);
        return state.Recv.Start(buffer, cancellationToken);
    }

    /// <summary>Sends all of <paramref name="data"/>, waiting for room in the send buffer as often as needed.</summary>
    public ValueTask SockSendAllAsync(NativeSocket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        CheckLoopCall(nameof(SockSendAllAsync));
        (socket.LoopState as SocketLoopState)?.ThrowIfBusy(this, readSide: false, nameof(SockSendAllAsync));
        ReadOnlySpan<byte> span = data.Span;
        int sent = 0;
        while (sent < span.Length)
        {
            int n = socket.Send(span[sent..], out Errno errno);
            if (n == -1)
            {
                if (errno == Errno.EAGAIN)
                {
                    break;
                }
                return ValueTask.FromException(new PosixException(errno, "send", socket.Fd));
            }
            sent += n;
        }
        if (sent == span.Length)
        {
            return default;
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        return GetSocketState(socket).Send.Start(data[sent..], cancellationToken);
    }

    /// <summary>Accepts a connection on a listening socket; the new socket is non-blocking.
    /// Fails with a <see cref="PosixException"/> on EMFILE/ENFILE, so the caller can back off.</summary>
    public ValueTask<NativeSocket> SockAcceptAsync(NativeSocket listener, CancellationToken cancellationToken = default)
    {
        CheckLoopCall(nameof(SockAcceptAsync));
        (listener.LoopState as SocketLoopState)?.ThrowIfBusy(this, readSide: true, nameof(SockAcceptAsync));
        NativeSocket? accepted = listener.Accept(out Errno errno);
        if (accepted is not null)
        {
            return new ValueTask<NativeSocket>(accepted);
        }
        if (errno is not (Errno.EAGAIN or Errno.ECONNABORTED))
        {
            return ValueTask.FromException<NativeSocket>(new PosixException(errno, "accept", listener.Fd));
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<NativeSocket>(cancellationToken);
        }
        return GetSocketState(listener).Accept.Start(cancellationToken);
    }

    /// <summary>Connects <paramref name="socket"/> to <paramref name="endPoint"/>; ECONNREFUSED and the like fail this operation.</summary>
    public ValueTask SockConnectAsync(NativeSocket socket, EndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        CheckLoopCall(nameof(SockConnectAsync));
        (socket.LoopState as SocketLoopState)?.ThrowIfBusy(this, readSide: false, nameof(SockConnectAsync));
        Errno errno = socket.Connect(endPoint);
        if (errno == Errno.None)
        {
            return default;
        }
        if (errno != Errno.EINPROGRESS && errno != Errno.EAGAIN) // EAGAIN: a Unix socket's backlog is full; retry on writable
        {
            return ValueTask.FromException(new PosixException(errno, $"connect to {endPoint}", socket.Fd));
        }
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        return GetSocketState(socket).Connect.Start(endPoint, cancellationToken);
    }

    private SocketLoopState GetSocketState(NativeSocket socket)
    {
        ObjectDisposedException.ThrowIf(socket.IsClosed, socket);
        if (socket.LoopState is SocketLoopState state)
        {
            if (state.Loop != this)
            {
                throw new InvalidOperationException($"fd {socket.Fd} is used by another event loop ({state.Loop.Name}); a socket belongs to one loop.");
            }
            return state;
        }
        state = new SocketLoopState(this, socket);
        socket.LoopState = state;
        return state;
    }
}
