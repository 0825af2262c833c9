using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Eddy.Loop;
using Eddy.Transports;

namespace Eddy.FunctionalTests.Transports;

/// <summary>
/// The stream transport over real loopback TCP: what the protocol is told and in which order, what the
/// peer receives, flow control in both directions, and Close/Abort/WriteEof. The server runs on a
/// <see cref="LoopThread"/>; clients are plain System.Net.Sockets.
/// </summary>
public class SocketTransportTests
{
    private static readonly IPEndPoint AnyLoopbackPort = new(IPAddress.Loopback, 0);

    [Fact]
    public async Task EchoesOneHundredConcurrentConnectionsOfUpToOneMebibyteByteForByte()
    {
        using var loop = new LoopThread();
        var protocols = new ConcurrentQueue<EchoProtocol>();
        int accepted = 0;
        // Every other connection gets a small kernel send buffer, so its echo goes through the transport's write buffer.
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Enqueue(protocols, new EchoProtocol(accepted++ % 2 == 0 ? 16 * 1024 : null)), AnyLoopbackPort));

        var clients = Enumerable.Range(0, 100).Select(i => Task.Run(async () =>
        {
            var random = new Random(i);
            int size = i switch { 0 => 1, 1 => 1 << 20, _ => random.Next(1, (1 << 20) + 1) };
            byte[] message = TestData.Bytes(size, seed: i);
            using Socket socket = await Client.ConnectAsync(server.EndPoints[0]);
            Task<(byte[] Data, bool Reset)> echo = Client.ReceiveToEndAsync(socket);
            // Random split points: the pieces the server reads bear no relation to the pieces it echoes.
            for (int sent = 0; sent < size;)
            {
                int n = Math.Min(size - sent, random.Next(1, 128 * 1024));
                await Client.SendAllAsync(socket, message.AsMemory(sent, n));
                sent += n;
            }
            socket.Shutdown(SocketShutdown.Send);
            (byte[] echoed, bool reset) = await echo;
            return (Client: i, Size: size, Sent: TestData.Hash(message), Echoed: TestData.Hash(echoed), EchoedSize: echoed.Length, Reset: reset);
        }));
        var results = await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(30));

        foreach (var r in results)
        {
            Assert.False(r.Reset);
            Assert.True(r.Sent == r.Echoed, $"client {r.Client}: sent {r.Size} bytes (SHA-256 {r.Sent}), got {r.EchoedSize} back (SHA-256 {r.Echoed})");
        }
        Assert.Equal(100, protocols.Count);
        Exception?[] lost = await Task.WhenAll(protocols.Select(p => p.Lost.Task)).WaitAsync(TestTimeouts.Wait);
        Assert.All(lost, Assert.Null);
        Assert.All(protocols, p => Assert.Empty(p.Violations));
        Assert.True(protocols.Count(p => p.Events.Contains("pause")) >= 10, "too few connections went through write-side flow control for the test to mean much");
        Assert.Equal(0, await loop.Invoke(() => server.ConnectionCount));
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors();
    }

    [Fact]
    public async Task CallsConnectionMadeThenDataThenEofOnceThenConnectionLostOnceWithNullOnACleanClose()
    {
        using var loop = new LoopThread();
        var accepted = new TaskCompletionSource<RecordingProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted, new RecordingProtocol()), AnyLoopbackPort));

        using Socket client = await Client.ConnectAsync(server.EndPoints[0]);
        await Client.SendAllAsync(client, "hello "u8.ToArray());
        RecordingProtocol protocol = await accepted.Task.WaitAsync(TestTimeouts.Wait);
        await protocol.FirstData.Task.WaitAsync(TestTimeouts.Wait);
        await Client.SendAllAsync(client, "world"u8.ToArray());
        client.Shutdown(SocketShutdown.Send);

        // EofReceived returns false (the default): the transport closes, and the client sees EOF.
        (byte[] answer, bool reset) = await Client.ReceiveToEndAsync(client);
        Assert.Empty(answer);
        Assert.False(reset);
        Assert.Null(await protocol.Lost.Task.WaitAsync(TestTimeouts.Wait));
        await loop.SettleAsync(); // room for a second ConnectionLost, if there were one

        string[] events = protocol.Events;
        Assert.Equal("made", events[0]);
        Assert.Equal(["eof", "lost"], events[^2..]);
        Assert.All(events[1..^2], e => Assert.Equal("data", e));
        Assert.NotEmpty(events[1..^2]);
        Assert.Empty(protocol.Violations);
        Assert.Equal("hello world", Encoding.ASCII.GetString(protocol.Received));
        Assert.All(protocol.Threads, t => Assert.Equal(loop.ThreadId, t));
        Assert.True(await loop.Invoke(() => protocol.Transport.IsClosing));
        Assert.Equal(0, await loop.Invoke(() => server.ConnectionCount));
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors();
    }

    [Fact]
    public async Task DeliversAPeerResetToConnectionLostAsConnectionResetWithoutReportingAnError()
    {
        using var loop = new LoopThread();
        var accepted = new TaskCompletionSource<RecordingProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted, new RecordingProtocol()), AnyLoopbackPort));

        Socket client = await Client.ConnectAsync(server.EndPoints[0]);
        await Client.SendAllAsync(client, "x"u8.ToArray());
        RecordingProtocol protocol = await accepted.Task.WaitAsync(TestTimeouts.Wait);
        await protocol.FirstData.Task.WaitAsync(TestTimeouts.Wait);
        Client.Reset(client);

        Exception? error = await protocol.Lost.Task.WaitAsync(TestTimeouts.Wait);
        await loop.SettleAsync();
        var posix = Assert.IsType<PosixException>(error);
        Assert.Equal(Errno.ECONNRESET, posix.Errno);
        Assert.Equal(["made", "data", "lost"], protocol.Events); // no EofReceived: a reset is not an end of stream
        Assert.Empty(protocol.Violations);
        Assert.Equal(0, await loop.Invoke(() => server.ConnectionCount));
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors(); // a peer reset is network weather, not a bug to report
    }

    [Fact]
    public async Task AResetWhileWritesAreBufferedEndsTheConnectionOnceWithAConnectionLossError()
    {
        using var loop = new LoopThread();
        byte[] data = TestData.Bytes(8 << 20, seed: 3);
        var accepted = new TaskCompletionSource<GreeterProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted, new GreeterProtocol(data, then: null)), AnyLoopbackPort));

        Socket client = await Client.ConnectAsync(server.EndPoints[0], receiveBufferSize: 64 * 1024);
        GreeterProtocol protocol = await accepted.Task.WaitAsync(TestTimeouts.Wait);
        await protocol.Made.Task.WaitAsync(TestTimeouts.Wait);
        Assert.True(protocol.BufferedAfterWrite > 0, "the greeting should not fit in the socket buffers");
        Client.Reset(client);

        var posix = Assert.IsType<PosixException>(await protocol.Lost.Task.WaitAsync(TestTimeouts.Wait));
        Assert.True(posix.IsConnectionLoss, $"expected a connection-loss errno, got {posix.Message}");
        await loop.SettleAsync();
        Assert.Equal(["made", "lost"], protocol.Events.Where(e => e is not ("pause" or "resume")));
        Assert.Empty(protocol.Violations);
        Assert.Equal(0, await loop.Invoke(() => protocol.Transport.WriteBufferSize));
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors();
    }

    [Fact]
    public async Task AProtocolKeepingTheConnectionOpenAtEofCanStillAnswerInFull()
    {
        using var loop = new LoopThread();
        var accepted = new TaskCompletionSource<AnsweringProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted, new AnsweringProtocol()), AnyLoopbackPort));

        byte[] question = TestData.Bytes(100_000, seed: 7);
        using Socket client = await Client.ConnectAsync(server.EndPoints[0]);
        await Client.SendAllAsync(client, question);
        client.Shutdown(SocketShutdown.Send); // half-close: "that is all I have to say"
        (byte[] answer, bool reset) = await Client.ReceiveToEndAsync(client);

        Assert.False(reset);
        byte[] expected = AnsweringProtocol.AnswerTo(question);
        Assert.True(TestData.Hash(expected) == TestData.Hash(answer), $"expected a {expected.Length}-byte answer, got {answer.Length} bytes that differ");
        AnsweringProtocol protocol = await accepted.Task.WaitAsync(TestTimeouts.Wait);
        Assert.Null(await protocol.Lost.Task.WaitAsync(TestTimeouts.Wait));
        Assert.False(protocol.ReadingAtEof);
        Assert.False(protocol.ClosingWhenAnswering, "returning true from EofReceived must keep the transport open");
        // Flow control may come at any time (on io_uring every write is buffered until the loop's next wait).
        Assert.Equal(["eof", "lost"], protocol.Events.Where(e => e is not ("pause" or "resume")).ToArray()[^2..]);
        Assert.Empty(protocol.Violations);
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors();
    }

    [Fact]
    public async Task PausesWritingAboveTheHighWaterMarkAndResumesWhenTheClientReads()
    {
        const int Chunk = 48 * 1024 + 7;
        using var loop = new LoopThread();
        byte[] data = TestData.Bytes(2 << 20, seed: 11);
        var accepted = new TaskCompletionSource<ProducerProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted, new ProducerProtocol(data, Chunk)), AnyLoopbackPort));

        // A client that does not read: a small receive window, so the kernel buffers fill long before 2 MiB.
        using Socket client = await Client.ConnectAsync(server.EndPoints[0], receiveBufferSize: 64 * 1024);
        ProducerProtocol protocol = await accepted.Task.WaitAsync(TestTimeouts.Wait);
        await protocol.FirstPause.Task.WaitAsync(TestTimeouts.Wait);
        var marks = await loop.Invoke(() => (High: protocol.Transport.WriteBufferHighWaterMark, Low: protocol.Transport.WriteBufferLowWaterMark, protocol.Sent));
        Assert.Equal(64 * 1024, marks.High);
        Assert.Equal(16 * 1024, marks.Low);
        Assert.True(marks.Sent < data.Length, "the producer should be paused, not done");

        (byte[] received, bool reset) = await Client.ReceiveToEndAsync(client);

        Assert.False(reset);
        Assert.Equal(data.Length, received.Length);
        Assert.True(TestData.Hash(data) == TestData.Hash(received), "the stream arrived altered");
        Assert.Null(await protocol.Lost.Task.WaitAsync(TestTimeouts.Wait));
        Assert.Contains("resume", protocol.Events);
        Assert.Empty(protocol.Violations); // pause and resume alternated, starting with a pause
        // Each pause came once the buffer passed the high-water mark (by at most the write that passed it), each
        // resume once it had drained to the low-water mark: the producer never waited on a buffer with room, nor
        // was asked for more while the buffer was still full.
        Assert.All(protocol.BufferedAtPause, b => Assert.InRange(b, marks.High + 1, marks.High + Chunk));
        Assert.All(protocol.BufferedAtResume, b => Assert.InRange(b, 0, marks.Low));
        Assert.InRange(protocol.MaxBuffered, 0, marks.High + Chunk);
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors();
    }

    [Fact]
    public async Task PauseReadingStopsDataReceivedAndResumeReadingDeliversEverything()
    {
        using var loop = new LoopThread();
        var accepted = new TaskCompletionSource<PausedReaderProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted, new PausedReaderProtocol()), AnyLoopbackPort));

        using Socket client = await Client.ConnectAsync(server.EndPoints[0]);
        PausedReaderProtocol protocol = await accepted.Task.WaitAsync(TestTimeouts.Wait);
        await protocol.Made.Task.WaitAsync(TestTimeouts.Wait);

        // Paused from ConnectionMade on: the transport never starts reading. Once the bytes wait at the server's
        // socket, a reading transport would take them in its next tick: a few round trips, and nothing came.
        Assert.False(await loop.Invoke(() => protocol.Transport.IsReading));
        byte[] first = TestData.Bytes(1000, seed: 1);
        await Client.SendAllAsync(client, first);
        await WaitUntilUnreadAsync(loop, protocol, first.Length);
        await loop.SettleAsync();
        Assert.Equal((0L, first.Length), await loop.Invoke(() => (protocol.ReceivedCount, KernelSocket.UnreadBytes(protocol.Transport.Socket!))));
        Assert.True(await loop.Invoke(() =>
        {
            protocol.Transport.ResumeReading();
            return protocol.Transport.IsReading;
        }));
        await protocol.WhenReceived(first.Length).WaitAsync(TestTimeouts.Wait);

        // Paused while reading: the next bytes stay in the kernel, and TCP flow control stalls a large send.
        Assert.False(await loop.Invoke(() =>
        {
            protocol.Transport.PauseReading();
            return protocol.Transport.IsReading;
        }));
        byte[] bulk = TestData.Bytes(16 << 20, seed: 2);
        Task sending = Client.SendAllAsync(client, bulk);
        await WaitUntilUnreadAsync(loop, protocol, 1);
        await loop.SettleAsync();
        (long receivedWhilePaused, int unread) = await loop.Invoke(() => (protocol.ReceivedCount, KernelSocket.UnreadBytes(protocol.Transport.Socket!)));
        Assert.Equal(first.Length, receivedWhilePaused);
        Assert.True(unread > 0, "the transport emptied the socket while paused");
        Assert.False(sending.IsCompleted, "16 MiB went through although the server paused reading");

        Assert.True(await loop.Invoke(() =>
        {
            protocol.Transport.ResumeReading();
            return protocol.Transport.IsReading;
        }));
        await sending.WaitAsync(TestTimeouts.Wait);
        client.Shutdown(SocketShutdown.Send);
        await protocol.Eof.Task.WaitAsync(TestTimeouts.Wait);

        Assert.True(TestData.Hash([.. first, .. bulk]) == TestData.Hash(protocol.Received), $"got {protocol.ReceivedCount} of {first.Length + bulk.Length} bytes, or different ones");
        Assert.Null(await protocol.Lost.Task.WaitAsync(TestTimeouts.Wait));
        Assert.False(await loop.Invoke(() => protocol.Transport.IsReading));
        Assert.Empty(protocol.Violations);
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors();
    }

    [Fact]
    public async Task CloseSendsWhatIsBufferedThenClosesAndOnlyThenCallsConnectionLost()
    {
        using var loop = new LoopThread();
        byte[] data = TestData.Bytes(8 << 20, seed: 4);
        var accepted = new TaskCompletionSource<GreeterProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted, new GreeterProtocol(data, then: t => t.Close())), AnyLoopbackPort));

        using Socket client = await Client.ConnectAsync(server.EndPoints[0], receiveBufferSize: 64 * 1024);
        GreeterProtocol protocol = await accepted.Task.WaitAsync(TestTimeouts.Wait);
        await protocol.Made.Task.WaitAsync(TestTimeouts.Wait);
        Assert.True(protocol.BufferedAfterWrite > 0, "the greeting should not fit in the socket buffers");
        Assert.True(protocol.AfterThen.IsClosing);
        Assert.False(protocol.AfterThen.IsReading);
        Assert.True(protocol.AfterThen.WriteBufferSize > 0);
        // The client reads nothing yet, so the buffer cannot drain: after a few ticks it still holds data, and
        // ConnectionLost, which must wait for it, has not come.
        await loop.SettleAsync();
        (int stillBuffered, bool lost) = await loop.Invoke(() => (protocol.Transport.WriteBufferSize, protocol.Lost.Task.IsCompleted));
        Assert.True(stillBuffered > 0, "the buffer drained although the client read nothing");
        Assert.False(lost, "ConnectionLost came before the buffered data was sent");

        (byte[] received, bool reset) = await Client.ReceiveToEndAsync(client);

        Assert.False(reset);
        Assert.Equal(data.Length, received.Length);
        Assert.True(data.AsSpan().SequenceEqual(received));
        Assert.Null(await protocol.Lost.Task.WaitAsync(TestTimeouts.Wait));
        Assert.Empty(protocol.Violations);
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors();
    }

    [Fact]
    public async Task AbortDropsWhatIsBufferedAndClosesAtOnce()
    {
        using var loop = new LoopThread();
        byte[] data = TestData.Bytes(8 << 20, seed: 5);
        var accepted = new TaskCompletionSource<GreeterProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted, new GreeterProtocol(data, then: t => t.Abort())), AnyLoopbackPort));

        using Socket client = await Client.ConnectAsync(server.EndPoints[0], receiveBufferSize: 64 * 1024);
        GreeterProtocol protocol = await accepted.Task.WaitAsync(TestTimeouts.Wait);
        // ConnectionLost comes although the client has read nothing: nothing waits for the buffer.
        Assert.Null(await protocol.Lost.Task.WaitAsync(TestTimeouts.Wait));
        Assert.True(protocol.BufferedAfterWrite > 0, "the greeting should not fit in the socket buffers");
        Assert.True(protocol.AfterThen.IsClosing);
        Assert.Equal(0, protocol.AfterThen.WriteBufferSize);

        (byte[] received, _) = await Client.ReceiveToEndAsync(client, resetIsEnd: true);

        Assert.True(received.Length < data.Length, "an aborted transport still sent everything");
        Assert.True(data.AsSpan(0, received.Length).SequenceEqual(received), "what arrived is not a prefix of what was written");
        Assert.Equal(["made", "lost"], protocol.Events.Where(e => e is not ("pause" or "resume")));
        Assert.Empty(protocol.Violations);
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors();
    }

    [Fact]
    public async Task WriteAfterWriteEofThrowsWhileReadingGoesOn()
    {
        using var loop = new LoopThread();
        var accepted = new TaskCompletionSource<WriteEofProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted, new WriteEofProtocol()), AnyLoopbackPort));

        using Socket client = await Client.ConnectAsync(server.EndPoints[0]);
        (byte[] greeting, bool reset) = await Client.ReceiveToEndAsync(client); // "bye", then the server's FIN
        Assert.False(reset);
        Assert.Equal("bye", Encoding.ASCII.GetString(greeting));
        WriteEofProtocol protocol = await accepted.Task.WaitAsync(TestTimeouts.Wait);
        // The factory hands the protocol over before ConnectionMade runs, and the FIN can reach the client
        // while ConnectionMade is still on the loop: what it recorded is only final once it has returned.
        await protocol.Made.Task.WaitAsync(TestTimeouts.Wait);
        Assert.IsType<InvalidOperationException>(protocol.WriteAfterEof);
        Assert.True(protocol.CanWriteEof);

        await Client.SendAllAsync(client, "still reading"u8.ToArray());
        await protocol.FirstData.Task.WaitAsync(TestTimeouts.Wait);
        client.Shutdown(SocketShutdown.Send);
        Assert.Null(await protocol.Lost.Task.WaitAsync(TestTimeouts.Wait));
        Assert.Equal("still reading", Encoding.ASCII.GetString(protocol.Received));
        Assert.Empty(protocol.Violations);
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WriteAfterTheConnectionIsLostIsIgnored(bool peerResets)
    {
        using var loop = new LoopThread();
        var accepted = new TaskCompletionSource<LateWriterProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted, new LateWriterProtocol()), AnyLoopbackPort));

        Socket client = await Client.ConnectAsync(server.EndPoints[0]);
        LateWriterProtocol protocol = await accepted.Task.WaitAsync(TestTimeouts.Wait);
        await protocol.Made.Task.WaitAsync(TestTimeouts.Wait);
        if (peerResets)
        {
            Client.Reset(client);
        }
        else
        {
            client.Dispose();
        }
        await protocol.Lost.Task.WaitAsync(TestTimeouts.Wait);

        // LateWriterProtocol writes from ConnectionLost; a throw there would reach the exception handler.
        var state = await loop.Invoke(() =>
        {
            protocol.Transport.Write(new byte[100_000]);
            protocol.Transport.Close();
            protocol.Transport.Abort();
            return (protocol.Transport.WriteBufferSize, protocol.Transport.IsClosing, protocol.Transport.LocalEndPoint);
        });
        await loop.SettleAsync();
        Assert.Equal(0, state.WriteBufferSize);
        Assert.True(state.IsClosing);
        Assert.Null(state.LocalEndPoint);
        Assert.Single(protocol.Events, "lost");
        Assert.Empty(protocol.Violations);
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors();
    }

    /// <summary>Waits (bounded) until the server's socket holds at least <paramref name="count"/> unread bytes.</summary>
    private static Task WaitUntilUnreadAsync(LoopThread loop, RecordingProtocol protocol, int count) =>
        TestData.WaitUntilAsync(async () => await loop.Invoke(() => KernelSocket.UnreadBytes(protocol.Transport.Socket!)) >= count, $"{count} bytes wait unread at the server");

    private static T Enqueue<T>(ConcurrentQueue<T> queue, T item)
    {
        queue.Enqueue(item);
        return item;
    }

    [Fact]
    public async Task AProtocolPausingAtEveryChunkGetsEveryByteInOrderAndNoneWhilePaused()
    {
        // Each DataReceived pauses reading and resumes it a callback later. On io_uring a pause cancels the receive
        // in flight, and what still arrives before the cancellation lands is kept and delivered first on resume: the
        // order, and the rule that nothing comes while paused, must hold anyway.
        using var loop = new LoopThread();
        var accepted = new TaskCompletionSource<StutteringProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted, new StutteringProtocol(loop.Loop)), AnyLoopbackPort));
        byte[] data = TestData.Bytes(4 << 20, seed: 17);

        using Socket client = await Client.ConnectAsync(server.EndPoints[0]);
        var random = new Random(17);
        for (int sent = 0; sent < data.Length;)
        {
            int n = Math.Min(data.Length - sent, random.Next(1, 200_000));
            await Client.SendAllAsync(client, data.AsMemory(sent, n));
            sent += n;
        }
        client.Shutdown(SocketShutdown.Send);
        StutteringProtocol protocol = await accepted.Task.WaitAsync(TestTimeouts.Wait);
        await protocol.Eof.Task.WaitAsync(TestTimeouts.Wait);

        Assert.True(TestData.Hash(data) == TestData.Hash(protocol.Received), $"expected {data.Length} bytes in order, got {protocol.Received.Length}");
        Assert.True(protocol.Pauses > 1, "the protocol never paused");
        Assert.Empty(protocol.Violations);
        Assert.Equal(0, protocol.DataWhilePaused);
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors();
    }

    /// <summary>Pauses reading in every DataReceived and resumes it from the next callback; counts data that comes while paused.</summary>
    private sealed class StutteringProtocol(EventLoop loop) : RecordingProtocol
    {
        private bool _paused;

        public int Pauses { get; private set; }

        public int DataWhilePaused { get; private set; }

        protected override void OnDataReceived(ReadOnlySpan<byte> data)
        {
            if (_paused)
            {
                DataWhilePaused++;
            }
            _paused = true;
            Pauses++;
            Transport.PauseReading();
            loop.CallSoon(() =>
            {
                _paused = false;
                Transport.ResumeReading();
            });
        }

        protected override bool OnEofReceived() => false;
    }

    private static T Accept<T>(TaskCompletionSource<T> accepted, T protocol)
    {
        Assert.True(accepted.TrySetResult(protocol), "expected one connection");
        return protocol;
    }

    /// <summary>Writes a greeting as soon as it connects (one write, mostly buffered when the client reads slowly), then does <c>then</c>.</summary>
    private sealed class GreeterProtocol(byte[] greeting, Action<Transport>? then) : RecordingProtocol
    {
        public int BufferedAfterWrite { get; private set; }

        public (bool IsClosing, bool IsReading, int WriteBufferSize) AfterThen { get; private set; }

        protected override void OnConnectionMade(Transport transport)
        {
            transport.Write(greeting);
            BufferedAfterWrite = transport.WriteBufferSize;
            if (then is not null)
            {
                then(transport);
                AfterThen = (transport.IsClosing, transport.IsReading, transport.WriteBufferSize);
            }
        }
    }

    /// <summary>Returns true at EOF, then answers a little later (so the connection must have stayed half-open) and closes.</summary>
    private sealed class AnsweringProtocol : RecordingProtocol
    {
        public bool ReadingAtEof { get; private set; } = true;

        public bool ClosingWhenAnswering { get; private set; } = true;

        /// <summary>The question's SHA-256, then half a mebibyte: enough to go through the write buffer.</summary>
        public static byte[] AnswerTo(byte[] question) => [.. System.Security.Cryptography.SHA256.HashData(question), .. TestData.Bytes(512 * 1024, seed: question.Length)];

        protected override bool OnEofReceived()
        {
            ReadingAtEof = Transport.IsReading;
            EventLoop.Current!.CallLater(TimeSpan.FromMilliseconds(50), () =>
            {
                ClosingWhenAnswering = Transport.IsClosing;
                Transport.Write(AnswerTo(Received));
                Transport.Close();
            });
            return true;
        }
    }

    /// <summary>Writes <c>data</c> in chunks for as long as it is not paused, then closes.</summary>
    private sealed class ProducerProtocol(byte[] data, int chunk) : RecordingProtocol
    {
        private bool _closed;

        public TaskCompletionSource FirstPause { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Sent { get; private set; }

        public bool Paused { get; private set; }

        public int MaxBuffered { get; private set; }

        /// <summary>The transport's buffer at each PauseWriting, in order (read on the loop, after the run).</summary>
        public List<int> BufferedAtPause { get; } = [];

        /// <summary>The transport's buffer at each ResumeWriting.</summary>
        public List<int> BufferedAtResume { get; } = [];

        public override void PauseWriting()
        {
            base.PauseWriting();
            BufferedAtPause.Add(Transport.WriteBufferSize);
            Paused = true;
            FirstPause.TrySetResult();
        }

        public override void ResumeWriting()
        {
            base.ResumeWriting();
            BufferedAtResume.Add(Transport.WriteBufferSize);
            Paused = false;
            Produce();
        }

        protected override void OnConnectionMade(Transport transport)
        {
            // A small kernel send buffer (no autotuning): once the client reads, each writable event takes a few
            // KiB, so the transport's buffer drains step by step and a resume comes at the low-water mark, not
            // whenever the kernel happens to swallow everything at once.
            transport.Socket!.SendBufferSize = 16 * 1024;
            Produce();
        }

        private void Produce()
        {
            while (!Paused && Sent < data.Length)
            {
                int n = Math.Min(chunk, data.Length - Sent);
                Sent += n;
                Transport.Write(data.AsSpan(Sent - n, n)); // may call PauseWriting before it returns
                MaxBuffered = Math.Max(MaxBuffered, Transport.WriteBufferSize);
            }
            if (Sent == data.Length && !_closed)
            {
                _closed = true;
                Transport.Close();
            }
        }
    }

    private sealed class PausedReaderProtocol : RecordingProtocol
    {
        protected override void OnConnectionMade(Transport transport) => transport.PauseReading();
    }

    private sealed class WriteEofProtocol : RecordingProtocol
    {
        public Exception? WriteAfterEof { get; private set; }

        public bool CanWriteEof { get; private set; }

        protected override void OnConnectionMade(Transport transport)
        {
            CanWriteEof = transport.CanWriteEof;
            transport.Write("bye"u8);
            transport.WriteEof();
            transport.WriteEof(); // idempotent
            try
            {
                transport.Write("more"u8);
            }
            catch (Exception e)
            {
                WriteAfterEof = e;
            }
        }
    }

    private sealed class LateWriterProtocol : RecordingProtocol
    {
        protected override void OnConnectionLost(Exception? error) => Transport.Write("too late"u8);
    }
}
