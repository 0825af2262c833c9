using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Eddy.Internal;
using Eddy.Interop;
using Eddy.Selectors;
using Microsoft.Win32.SafeHandles;

namespace Eddy.Transports.Internal;

// Reading and sending as io_uring requests (issue 17), when the loop's selector does the ring's own I/O:
// - Reading is one multishot receive into the loop's provided buffers: each arrival is a completion whose buffer goes
//   to the protocol and straight back to the ring. No recv(2), no readiness to re-arm. Pausing cancels the receive;
//   what completes before the cancellation lands is kept (_stash) and delivered first when reading resumes.
// - Writing appends to the buffer and asks the selector for a flush: just before the loop enters the ring, the head of
//   the buffer becomes one send request, so everything written in a tick leaves in one send, handed over by the same
//   io_uring_enter that waits. The bytes stay in the buffer until the send completes (its chunks are on the pinned
//   object heap: LoopBufferPool); a file region goes by sendfile(2) with readiness for the rest, as on the readiness
//   path.
// - Closing cancels what is in flight. The socket's descriptor may be closed before the cancellations land (the ring
//   holds the file until then); the slot is freed only once nothing is in flight, so no completion reaches another owner.
internal sealed partial class SocketTransport : IRingOperationOwner
{
    private static readonly Action<object?> s_deliverStash = static s => ((SocketTransport)s!).DeliverStash();

    private readonly IoUringSelector? _ring;
    private int _slot = -1;
    private bool _receiving;          // a multishot receive is in flight
    private bool _receiveCancelled;   // … and its cancellation is queued
    private bool _sending;            // a send is in flight: _sendArray is pinned, its bytes are the buffer's head
    private bool _flushRequested;
    private byte[]? _sendArray;
    private GCHandle _sendPin;        // only for an array not on the pinned heap (LoopBufferPool.IsPinned)
    private bool _abandonSendArray;   // aborted with a send in flight: the array returns to the pool when it completes
    private ByteBuffer? _stash;       // received while paused (before the cancellation landed)
    private bool _stashedEof;
    private bool _stashDeliveryScheduled;

    private bool WantsData => !_closing && !_readingPaused && !_eofReceived;

    private void RingStartReading()
    {
        if (_stash is not null || _stashedEof)
        {
            if (!_stashDeliveryScheduled)
            {
                _stashDeliveryScheduled = true;
                _loop.CallSoon(s_deliverStash, this); // what came while paused goes first; the receive is armed after it
            }
            return;
        }
        if (!_receiving)
        {
            _receiving = true;
            _receiveCancelled = false;
            _ring!.QueueReceive(_slot, _fd);
        }
        // else: a receive is still in flight (perhaps cancelled); when it ends, OnReceived arms a new one if wanted
    }

    private void RingStopReading()
    {
        if (_receiving && !_receiveCancelled)
        {
            _receiveCancelled = true;
            _ring!.QueueCancel(_slot, RingOperation.Receive);
        }
    }

    void IRingOperationOwner.OnCompletion(RingOperation operation, int result, uint flags)
    {
        if (operation == RingOperation.Receive)
        {
            OnReceived(result, flags);
        }
        else
        {
            OnSent(result);
        }
        RingDetachIfIdle();
    }

    private void OnReceived(int result, uint flags)
    {
        bool more = (flags & Libc.IORING_CQE_F_MORE) != 0;
        if (!more)
        {
            _receiving = false;
        }
        if ((flags & Libc.IORING_CQE_F_BUFFER) != 0)
        {
            IoUringBufferRing buffers = _ring!.Buffers!;
            ushort id = (ushort)(flags >> Libc.IORING_CQE_BUFFER_SHIFT);
            try
            {
                if (result > 0)
                {
                    Received(buffers.Get(id, result));
                }
            }
            finally
            {
                buffers.Recycle(id);
            }
        }
        else if (result == 0 && !_receiveCancelled)
        {
            // (A cancelled receive may also end with 0, and with data still waiting: not the peer's EOF. A true EOF
            // that races the cancellation is not lost: the socket reports it again to the next receive.)
            if (WantsData && _stash is null)
            {
                OnEof();
            }
            else if (!_closing)
            {
                _stashedEof = true;
            }
        }
        else if (result < 0 && result != -(int)Errno.ENOBUFS && result != -(int)Errno.ECANCELED && !_closing)
        {
            Fail(new PosixException((Errno)(-result), "recv", _fd), "Fatal read error on socket transport");
        }
        if (!_receiving && WantsData && !_stashDeliveryScheduled)
        {
            RingStartReading(); // a multishot receive ended (out of buffers, or cancelled and resumed since): go on
        }
    }

    private void Received(ReadOnlySpan<byte> data)
    {
        if (WantsData && _stash is null)
        {
            try
            {
                _protocol.DataReceived(data);
            }
            catch (Exception e)
            {
                Fail(e, "Fatal error: protocol.DataReceived() failed");
            }
        }
        else if (!_closing)
        {
            (_stash ??= new ByteBuffer()).Append(data); // paused: kept for ResumeReading
        }
    }

    private void DeliverStash()
    {
        _stashDeliveryScheduled = false;
        if (!WantsData)
        {
            return; // paused again (or closed) meanwhile: kept for the next resume
        }
        ByteBuffer? stash = _stash;
        _stash = null;
        if (stash is not null)
        {
            try
            {
                _protocol.DataReceived(stash.Span);
            }
            catch (Exception e)
            {
                Fail(e, "Fatal error: protocol.DataReceived() failed");
            }
            finally
            {
                stash.Release();
            }
        }
        if (_stashedEof && !_closing)
        {
            _stashedEof = false;
            OnEof();
        }
        else if (WantsData)
        {
            RingStartReading();
        }
    }

    /// <summary>Appends <paramref name="data"/> to the buffer; it leaves with the flush before the loop's next wait.</summary>
    private void RingQueue(ReadOnlySpan<byte> data)
    {
        if (!data.IsEmpty)
        {
            _buffer.Append(data);
            RequestFlush();
        }
    }

    private void RingQueueFile(SafeFileHandle file, long offset, int count)
    {
        if (count > 0)
        {
            _buffer.AppendFile(file, offset, count);
            RequestFlush();
        }
    }

    private void RequestFlush()
    {
        if (!_flushRequested && !_sending && !_writerArmed)
        {
            _flushRequested = true;
            _ring!.RequestFlush(this);
        }
    }

    void IRingOperationOwner.PrepareSends()
    {
        _flushRequested = false;
        Pump();
    }

    /// <summary>Starts the next send, or sends a file region itself; when all has left, finishes a close or a <see cref="WriteEof"/>.</summary>
    private unsafe void Pump()
    {
        while (!_connectionLost && !_sending && !_writerArmed)
        {
            if (_buffer.IsEmpty)
            {
                OnDrained();
                return;
            }
            if (!_buffer.HeadIsFile)
            {
                (byte[] array, int start, int length) = _buffer.HeadBytes;
                _sendArray = array;
                byte* bytes;
                if (LoopBufferPool.IsPinned(array))
                {
                    bytes = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array)); // on the pinned heap
                }
                else
                {
                    _sendPin = GCHandle.Alloc(array, GCHandleType.Pinned); // a large chunk from the shared pool
                    bytes = (byte*)_sendPin.AddrOfPinnedObject();
                }
                _sending = true;
                _ring!.QueueSend(_slot, _fd, bytes + start, length);
                return;
            }
            (SafeFileHandle file, long offset, long remaining) = _buffer.HeadFile;
            long n = _socket.SendFile(file, ref offset, remaining, out Errno errno);
            if (n == 0)
            {
                FailShortFile();
                return;
            }
            if (n == -1)
            {
                if (errno != Errno.EAGAIN)
                {
                    Fail(new PosixException(errno, "sendfile", _fd), "Fatal write error on socket transport");
                    return;
                }
                ArmWriter(); // the socket is full: RingOnWritable goes on
                return;
            }
            _buffer.Consume(n);
            MaybeResumeProtocol();
        }
    }

    private void RingOnWritable()
    {
        _loop.RemoveWriter(_fd);
        _writerArmed = false;
        Pump();
    }

    private void OnSent(int result)
    {
        _sending = false;
        if (_sendPin.IsAllocated)
        {
            _sendPin.Free();
        }
        byte[] array = _sendArray!;
        _sendArray = null;
        if (_abandonSendArray)
        {
            _abandonSendArray = false;
            WriteBuffer.ReturnArray(array); // the buffer was cleared without it while the kernel still read it
            return;
        }
        if (_connectionLost)
        {
            return;
        }
        if (result < 0)
        {
            Fail(new PosixException((Errno)(-result), "send", _fd), "Fatal write error on socket transport");
            return;
        }
        _buffer.Consume(result);
        MaybeResumeProtocol();
        if (_buffer.IsEmpty)
        {
            Pump(); // drained: a close or WriteEof waiting for it happens now
        }
        else
        {
            RequestFlush(); // the rest (and what the protocol wrote meanwhile) leaves with the next wait
        }
    }

    /// <summary>
    /// Abort or failure: what is buffered is dropped; a send in flight is cancelled and its array kept until it
    /// completes. <paramref name="sendWhatFits"/> (an abort): with no send in flight, what the socket takes at once
    /// goes first — on the readiness path those bytes would have left when they were written, and a protocol that
    /// writes a last word (a WebSocket close frame, an error answer) and aborts counts on that.
    /// </summary>
    private void RingAbandonWrites(bool sendWhatFits)
    {
        if (_sending)
        {
            _abandonSendArray = true;
            _buffer.Clear(retained: _sendArray);
            _ring!.QueueCancel(_slot, RingOperation.Send);
            return;
        }
        if (sendWhatFits && !_buffer.IsEmpty && !_buffer.HeadIsFile)
        {
            SendGathered(out _, out _); // best effort, never waits: the connection is going
        }
        _buffer.Clear();
    }

    /// <summary>Frees the ring slot once the connection is lost and no request of it is in flight.</summary>
    private void RingDetachIfIdle()
    {
        if (_slot >= 0 && _connectionLost && !_receiving && !_sending)
        {
            _ring!.Detach(_slot);
            _slot = -1;
        }
    }
}
