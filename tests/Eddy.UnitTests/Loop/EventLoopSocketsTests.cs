using System.Net;
using System.Net.Sockets;
using Eddy.Loop;
using Eddy.Sockets;
using Eddy.UnitTests.TestSupport;

namespace Eddy.UnitTests.Loop;

/// <summary>
/// The socket awaitables (SockAcceptAsync, SockConnectAsync, SockRecvAsync, SockSendAllAsync) on a real
/// loop (epoll, or poll) over 127.0.0.1. Each test runs its async body with <see cref="LoopTestBase.RunBounded(EventLoop, Func{Task})"/>,
/// whose watchdog stops the loop if an await never completes.
/// </summary>
public sealed class EventLoopSocketsTests : LoopTestBase
{
    private readonly EventLoop _loop;

    public EventLoopSocketsTests() => _loop = CreateRealLoop();

    [Fact]
    public void ConnectAcceptSendAndReceiveRoundTrip()
    {
        using NativeSocket listener = NativeSocket.CreateListener(SocketPair.AnyLoopback);
        using NativeSocket client = NativeSocket.Create(AddressFamily.InterNetwork);
        string? atServer = null;
        string? atClient = null;

        RunBounded(_loop, async () =>
        {
            ValueTask<NativeSocket> accepting = _loop.SockAcceptAsync(listener);
            await _loop.SockConnectAsync(client, listener.LocalEndPoint!);
            using NativeSocket server = await accepting;
            Assert.Equal(client.LocalEndPoint, server.RemoteEndPoint);

            await _loop.SockSendAllAsync(client, "hello"u8.ToArray());
            atServer = System.Text.Encoding.ASCII.GetString(await ReceiveExactlyAsync(server, 5));
            await _loop.SockSendAllAsync(server, "world!"u8.ToArray());
            atClient = System.Text.Encoding.ASCII.GetString(await ReceiveExactlyAsync(client, 6));
        });

        Assert.Equal("hello", atServer);
        Assert.Equal("world!", atClient);
    }

    [Fact]
    public void AcceptOfAConnectionAlreadyWaitingCompletesAtOnce()
    {
        using NativeSocket listener = NativeSocket.CreateListener(SocketPair.AnyLoopback);
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        peer.Connect((IPEndPoint)listener.LocalEndPoint!); // completes through the backlog, before any accept
        SocketPair.WaitReadable(listener.Fd);

        RunBounded(_loop, async () =>
        {
            ValueTask<NativeSocket> accepting = _loop.SockAcceptAsync(listener);
            Assert.True(accepting.IsCompletedSuccessfully);
            using NativeSocket server = await accepting;
            Assert.Equal(peer.LocalEndPoint, server.RemoteEndPoint);
        });
    }

    [Fact]
    public void SendAllOfEightMebibytesToASlowReaderArrivesIntact()
    {
        SocketPair pair = Own(SocketPair.Create());
        // Small, fixed buffers (which also turn off autotuning, tcp(7)) so the send must complete in many parts.
        pair.Client.SendBufferSize = 64 * 1024;
        pair.Server.ReceiveBufferSize = 64 * 1024;
        byte[] data = new byte[8 << 20];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(i * 31 + (i >> 13));
        }
        byte[] received = new byte[data.Length];
        bool sendCompletedAtOnce = true;

        RunBounded(_loop, async () =>
        {
            ValueTask sending = _loop.SockSendAllAsync(pair.Client, data);
            sendCompletedAtOnce = sending.IsCompleted;
            Task sent = sending.AsTask();
            int total = 0;
            var buffer = new byte[16 * 1024];
            for (int reads = 1; total < received.Length; reads++)
            {
                int n = await _loop.SockRecvAsync(pair.Server, buffer);
                Assert.NotEqual(0, n);
                buffer.AsSpan(0, n).CopyTo(received.AsSpan(total));
                total += n;
                if (reads % 16 == 0)
                {
                    await _loop.Delay(TimeSpan.FromMilliseconds(1)); // a slow reader: the sender waits for room again
                }
            }
            await sent;
        });

        Assert.False(sendCompletedAtOnce);
        Assert.True(data.AsSpan().SequenceEqual(received), "The bytes arrived out of order or corrupted.");
    }

    [Fact]
    public void RecvReturnsZeroWhenThePeerShutsDownItsSide()
    {
        SocketPair pair = Own(SocketPair.Create());
        int n = -1;

        RunBounded(_loop, async () =>
        {
            ValueTask<int> recv = _loop.SockRecvAsync(pair.Server, new byte[16]);
            pair.Client.Shutdown(SocketShutdown.Send);
            n = await recv;
        });

        Assert.Equal(0, n);
    }

    [Fact]
    public void RecvCancelledOnTheLoopThreadThrowsAndTheSocketStillWorks()
    {
        SocketPair pair = Own(SocketPair.Create());
        using var cts = new CancellationTokenSource();
        Exception? error = null;
        int n = -1;
        var buffer = new byte[16];

        RunBounded(_loop, async () =>
        {
            ValueTask<int> recv = _loop.SockRecvAsync(pair.Server, buffer, cts.Token);
            Assert.False(recv.IsCompleted);
            cts.Cancel();
            error = await CaptureAsync(recv);

            await _loop.SockSendAllAsync(pair.Client, "x"u8.ToArray());
            n = await _loop.SockRecvAsync(pair.Server, buffer);
        });

        var canceled = Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.Equal(cts.Token, canceled.CancellationToken);
        Assert.Equal(1, n);
        Assert.Equal((byte)'x', buffer[0]);
    }

    [Fact]
    public void RecvCancelledFromAnotherThreadThrowsAndTheSocketStillWorks()
    {
        SocketPair pair = Own(SocketPair.Create());
        using var cts = new CancellationTokenSource();
        Exception? error = null;
        int n = -1;

        RunBounded(_loop, async () =>
        {
            ValueTask<int> recv = _loop.SockRecvAsync(pair.Server, new byte[16], cts.Token);
            _ = Task.Run(cts.Cancel);
            error = await CaptureAsync(recv);

            await _loop.SockSendAllAsync(pair.Client, "yz"u8.ToArray());
            n = (await ReceiveExactlyAsync(pair.Server, 2)).Length;
        });

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.Equal(2, n);
    }

    [Fact]
    public void RecvWithAnAlreadyCancelledTokenAndNoDataIsCancelledAtOnce()
    {
        SocketPair pair = Own(SocketPair.Create());
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        RunBounded(_loop, () =>
        {
            ValueTask<int> recv = _loop.SockRecvAsync(pair.Server, new byte[16], cts.Token);
            Assert.True(recv.IsCanceled);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public void APeerResetFailsThePendingRecvWithEconnreset()
    {
        using NativeSocket listener = NativeSocket.CreateListener(SocketPair.AnyLoopback);
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        peer.Connect((IPEndPoint)listener.LocalEndPoint!);
        Exception? error = null;
        bool loopStillRuns = false;

        RunBounded(_loop, async () =>
        {
            using NativeSocket server = await _loop.SockAcceptAsync(listener);
            ValueTask<int> recv = _loop.SockRecvAsync(server, new byte[16]);
            Assert.False(recv.IsCompleted);

            peer.LingerState = new LingerOption(true, 0); // close(2) with SO_LINGER 0 sends a reset (socket(7))
            peer.Close();
            error = await CaptureAsync(recv);

            await _loop.Delay(TimeSpan.FromMilliseconds(1));
            loopStillRuns = true;
        });

        var e = Assert.IsType<PosixException>(error);
        Assert.Equal(Errno.ECONNRESET, e.Errno);
        Assert.True(e.IsConnectionLoss);
        Assert.Contains("recv", e.Message);
        Assert.True(loopStillRuns); // and the base class checks the exception handler saw nothing
    }

    [Fact]
    public void ARecvAfterAPeerResetFailsWithEconnresetAndASendWithAConnectionLoss()
    {
        SocketPair pair = Own(SocketPair.Create());
        Exception? recvError = null;
        Exception? sendError = null;

        // Unread data at close makes the kernel reset the connection instead of closing it in order (RFC 2525 §2.17).
        SocketPair.SendAll(pair.Server, "unread"u8);
        SocketPair.WaitReadable(pair.Client.Fd);
        pair.Client.Dispose();
        SocketPair.WaitReadable(pair.Server.Fd);

        RunBounded(_loop, async () =>
        {
            // The server has nothing of its own to read, so its first recv meets the reset.
            byte[] drain = new byte[64];
            recvError = await CaptureAsync(_loop.SockRecvAsync(pair.Server, drain));
            sendError = await CaptureAsync(_loop.SockSendAllAsync(pair.Server, new byte[1024]));
        });

        Assert.Equal(Errno.ECONNRESET, Assert.IsType<PosixException>(recvError).Errno);
        var send = Assert.IsType<PosixException>(sendError);
        Assert.True(send.IsConnectionLoss, $"Expected a connection loss, got {send.ErrnoName}.");
    }

    [Fact]
    public void ConnectToAClosedPortFailsWithEconnrefused()
    {
        // Bound but not listening: the port stays ours, and connecting to it is refused.
        using NativeSocket reserved = NativeSocket.Create(AddressFamily.InterNetwork);
        reserved.Bind(SocketPair.AnyLoopback);
        using NativeSocket client = NativeSocket.Create(AddressFamily.InterNetwork);
        Exception? error = null;

        RunBounded(_loop, async () => error = await CaptureAsync(_loop.SockConnectAsync(client, reserved.LocalEndPoint!)));

        var e = Assert.IsType<PosixException>(error);
        Assert.Equal(Errno.ECONNREFUSED, e.Errno);
        Assert.Contains(reserved.LocalEndPoint!.ToString()!, e.Message);
    }

    [Fact]
    public void DisposingASocketWithAPendingRecvFailsTheAwaitWithObjectDisposed()
    {
        SocketPair pair = Own(SocketPair.Create());
        Exception? error = null;

        RunBounded(_loop, async () =>
        {
            ValueTask<int> recv = _loop.SockRecvAsync(pair.Server, new byte[16]);
            Assert.Equal(2, _loop.Selector.Count);
            pair.Server.Dispose();
            Assert.Equal(1, _loop.Selector.Count); // unregistered before its descriptor closed
            error = await CaptureAsync(recv);
        });

        Assert.IsType<ObjectDisposedException>(error);
        Assert.True(pair.Server.IsClosed);
    }

    [Fact]
    public void ASecondConcurrentRecvOnTheSameSocketThrows()
    {
        SocketPair pair = Own(SocketPair.Create());
        int first = -1;

        RunBounded(_loop, async () =>
        {
            ValueTask<int> pending = _loop.SockRecvAsync(pair.Server, new byte[16]);

            var e = Assert.Throws<InvalidOperationException>(() => _loop.SockRecvAsync(pair.Server, new byte[16]));
            Assert.Contains("already pending", e.Message);

            await _loop.SockSendAllAsync(pair.Client, "x"u8.ToArray());
            first = await pending; // the first receive is unharmed
        });

        Assert.Equal(1, first);
    }

    [Fact]
    public void ASecondConcurrentRecvThrowsEvenWhenDataHasArrived()
    {
        SocketPair pair = Own(SocketPair.Create());
        var firstBuffer = new byte[16];
        int first = -1;

        RunBounded(_loop, async () =>
        {
            ValueTask<int> pending = _loop.SockRecvAsync(pair.Server, firstBuffer);
            SocketPair.SendAll(pair.Client, "x"u8);
            SocketPair.WaitReadable(pair.Server.Fd);

            // The data belongs to the receive that is already waiting; a second one must not take it.
            Assert.Throws<InvalidOperationException>(() => _loop.SockRecvAsync(pair.Server, new byte[16]));
            first = await pending;
        });

        Assert.Equal(1, first);
        Assert.Equal((byte)'x', firstBuffer[0]);
    }

    [Fact]
    public void ASecondConcurrentSendThrowsInsteadOfInterleavingBytes()
    {
        SocketPair pair = Own(SocketPair.Create());
        pair.Client.SendBufferSize = 64 * 1024;
        pair.Server.ReceiveBufferSize = 64 * 1024;
        byte[] first = new byte[1 << 20];
        first.AsSpan().Fill((byte)'a');
        byte[] received = new byte[first.Length];

        RunBounded(_loop, async () =>
        {
            ValueTask sending = _loop.SockSendAllAsync(pair.Client, first);
            Assert.False(sending.IsCompleted);
            // Make room in the send buffer, so a second send could write at once if it were allowed to.
            int total = await ReceiveSomeAsync(pair.Server, received, 0);
            SocketPair.WaitWritable(pair.Client.Fd);

            Assert.Throws<InvalidOperationException>(() => _loop.SockSendAllAsync(pair.Client, "b"u8.ToArray()));

            Task sent = sending.AsTask();
            while (total < received.Length)
            {
                total = await ReceiveSomeAsync(pair.Server, received, total);
            }
            await sent;
        });

        Assert.DoesNotContain((byte)'b', received);
    }

    [Fact]
    public void ASocketBelongsToOneLoop()
    {
        SocketPair pair = Own(SocketPair.Create());
        EventLoop other = CreateRealLoop();
        RunBounded(_loop, async () =>
        {
            // Leave state for this loop on the socket: a recv that had to wait.
            ValueTask<int> recv = _loop.SockRecvAsync(pair.Server, new byte[16]);
            await _loop.SockSendAllAsync(pair.Client, "x"u8.ToArray());
            await recv;
        });

        Exception? error = null;
        RunBounded(other, () =>
        {
            error = Record(() => other.SockRecvAsync(pair.Server, new byte[16]));
            return Task.CompletedTask;
        });

        Assert.IsType<InvalidOperationException>(error);
        Assert.Contains("another event loop", error!.Message);
    }

    [Fact]
    public void SteadyStateRecvAndSendAwaitsAllocateNothing()
    {
        SocketPair pair = Own(SocketPair.Create());
        ReadOnlyMemory<byte> one = new byte[] { 42 };
        Memory<byte> buffer = new byte[16];
        const int Warmup = 1_000;
        const int Iterations = 5_000; // per window
        var windows = new List<long>();
        int completedAtOnce = 0;

        RunBounded(_loop, async () =>
        {
            long before = 0;
            for (int i = 0; i < Warmup + 3 * Iterations; i++)
            {
                // The least of three windows: a one-off allocation on this thread by the runtime (tiered JIT's
                // promotions, under load) can land in one window, an allocation per round trip in all.
                if (i >= Warmup && (i - Warmup) % Iterations == 0)
                {
                    if (i > Warmup)
                    {
                        windows.Add(GC.GetAllocatedBytesForCurrentThread() - before);
                    }
                    before = GC.GetAllocatedBytesForCurrentThread();
                }
                // Receive first, so it has to wait; the send then makes it ready and the next tick completes it.
                ValueTask<int> recv = _loop.SockRecvAsync(pair.Server, buffer);
                completedAtOnce += recv.IsCompleted ? 1 : 0;
                await _loop.SockSendAllAsync(pair.Client, one);
                if (await recv != 1)
                {
                    throw new InvalidOperationException("expected one byte");
                }
            }
            windows.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        });

        Assert.Equal(0, completedAtOnce); // every receive really went through the loop
        Assert.Equal(3, windows.Count);
        // Reused completion sources (one per socket and kind), inline continuations, and lazily disarmed interest (no epoll_ctl, no pollfd change).
        Assert.True(windows.Min() == 0, $"bytes per window of {Iterations} round trips: {string.Join(", ", windows)}.");
    }

    private async Task<byte[]> ReceiveExactlyAsync(NativeSocket socket, int count)
    {
        byte[] result = new byte[count];
        int total = 0;
        while (total < count)
        {
            int n = await _loop.SockRecvAsync(socket, result.AsMemory(total));
            if (n == 0)
            {
                throw new EndOfStreamException($"The peer closed after {total} of {count} bytes.");
            }
            total += n;
        }
        return result;
    }

    private async Task<int> ReceiveSomeAsync(NativeSocket socket, byte[] into, int total)
    {
        int n = await _loop.SockRecvAsync(socket, into.AsMemory(total, Math.Min(16 * 1024, into.Length - total)));
        Assert.NotEqual(0, n);
        return total + n;
    }

    private static async Task<Exception?> CaptureAsync<T>(ValueTask<T> operation)
    {
        try
        {
            await operation;
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static async Task<Exception?> CaptureAsync(ValueTask operation)
    {
        try
        {
            await operation;
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static Exception? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
