using System.Text;
using Eddy.FunctionalTests.Transports;
using Eddy.Loop;
using Eddy.Streams;
using Eddy.Transports;
using Xunit.Abstractions;

namespace Eddy.FunctionalTests.Streams;

public sealed class AsyncStreamReaderTests(ITestOutputHelper output)
{
    [Fact]
    public Task ReadExactlyAsyncRoundTripsThroughAStreamEchoServer() => StreamTestLoop.RunAsync(async loop =>
    {
        Server server = loop.StartServer(EchoAsync, StreamTestLoop.AnyLoopbackPort);
        var (reader, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);
        byte[] request = RandomBytes(100_000, seed: 1);
        writer.Write(request);
        await writer.DrainAsync();

        byte[] answer = new byte[request.Length];
        await reader.ReadExactlyAsync(answer);

        Assert.Equal(request, answer);
        await writer.CloseAsync();
        server.Close();
        await server.WaitClosedAsync();
    });

    [Fact]
    public Task ReadLineAsyncReadsLinesSplitAcrossManySmallWrites() => StreamTestLoop.RunAsync(async loop =>
    {
        var lines = new TaskCompletionSource<List<string>>();
        Server server = loop.StartServer(async (reader, writer) =>
        {
            var received = new List<string>();
            while (await reader.ReadLineAsync() is { } line)
            {
                received.Add(line);
            }
            lines.SetResult(received);
        }, StreamTestLoop.AnyLoopbackPort);
        var (_, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);

        byte[] text = Encoding.UTF8.GetBytes("first\nsecond\r\n\r\nthird, with ünïcödé\r\nlast without newline");
        for (int i = 0; i < text.Length; i += 3)
        {
            writer.Write(text.AsSpan(i, Math.Min(3, text.Length - i)));
            await loop.Delay(TimeSpan.Zero); // a tick between writes, so the server reads them apart
        }
        writer.WriteEof();

        Assert.Equal(["first", "second", "", "third, with ünïcödé", "last without newline"], await lines.Task);
        await writer.CloseAsync();
        server.Close();
    });

    [Fact]
    public Task ReadLineAsyncReturnsTheSameLinesForEveryTwoSegmentSplit() => StreamTestLoop.RunAsync(async loop =>
    {
        byte[] text = "alpha\r\nbeta\n\ngamma\r\n\r\nomega"u8.ToArray();
        string[] expected = ["alpha", "beta", "", "gamma", "", "omega"];
        for (int split = 0; split <= text.Length; split++)
        {
            var reader = new AsyncStreamReader(loop);
            Task<List<string>> lines = ReadAllLinesAsync(reader);
            reader.FeedData(text.AsSpan(0, split));
            reader.FeedData(text.AsSpan(split));
            reader.FeedEof();
            Assert.Equal(expected, await lines);
            Assert.True(reader.AtEof);
        }
    });

    [Fact]
    public Task ReadUntilAsyncFindsAMultiByteSeparatorSplitAcrossReads() => StreamTestLoop.RunAsync(async loop =>
    {
        var chunks = new TaskCompletionSource<List<string>>();
        Server server = loop.StartServer(async (reader, writer) =>
        {
            var received = new List<string>();
            received.Add(Encoding.ASCII.GetString(await reader.ReadUntilAsync("\r\n\r\n"u8.ToArray())));
            received.Add(Encoding.ASCII.GetString(await reader.ReadUntilAsync("\r\n\r\n"u8.ToArray())));
            chunks.SetResult(received);
        }, StreamTestLoop.AnyLoopbackPort);
        var (_, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);

        // Each byte in its own write and tick: the separator arrives one byte per read.
        foreach (byte b in "HEAD\r\n\r\nbody\r\n\r\n"u8.ToArray())
        {
            writer.Write([b]);
            await loop.Delay(TimeSpan.Zero);
        }

        Assert.Equal(["HEAD\r\n\r\n", "body\r\n\r\n"], await chunks.Task);
        await writer.CloseAsync();
        server.Close();
    });

    [Fact]
    public Task ReadUntilAsyncFindsTheSeparatorForEveryTwoSegmentSplit() => StreamTestLoop.RunAsync(async loop =>
    {
        byte[] separator = "--sep--"u8.ToArray();
        byte[] text = "one--sep--two-s--sep--"u8.ToArray();
        for (int split = 0; split <= text.Length; split++)
        {
            var reader = new AsyncStreamReader(loop);
            ValueTask<byte[]> first = reader.ReadUntilAsync(separator);
            reader.FeedData(text.AsSpan(0, split));
            reader.FeedData(text.AsSpan(split));
            Assert.Equal("one--sep--"u8.ToArray(), await first);
            Assert.Equal("two-s--sep--"u8.ToArray(), await reader.ReadUntilAsync(separator));
            Assert.Equal(0, reader.BufferedCount);
        }
    });

    [Fact]
    public Task ReadLineAsyncThrowsLimitOverrunExceptionWhenALineExceedsTheLimit() => StreamTestLoop.RunAsync(async loop =>
    {
        var outcome = new TaskCompletionSource<(string?, LimitOverrunException, string?)>();
        Server server = loop.StartServer(async (reader, writer) =>
        {
            reader.Limit = 16; // before the first read: the callback runs before any byte is read
            string? first = await reader.ReadLineAsync();
            var overrun = await Assert.ThrowsAsync<LimitOverrunException>(async () => await reader.ReadLineAsync());
            string? after = await reader.ReadLineAsync();
            outcome.SetResult((first, overrun, after));
        }, StreamTestLoop.AnyLoopbackPort);
        var (_, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);

        writer.Write(Encoding.ASCII.GetBytes("short\n" + new string('x', 100) + "\nnext\n"));

        var (first, overrun, after) = await outcome.Task;
        Assert.Equal("short", first);
        Assert.Equal(16, overrun.Limit);
        Assert.True(overrun.Consumed > 16);
        Assert.Contains("16-byte limit", overrun.Message);
        Assert.Equal("next", after); // the overlong line was discarded through its newline
        await writer.CloseAsync();
        server.Close();
    });

    [Fact]
    public Task ReadLineAsyncDiscardsWhatItBufferedOfALineWithNoNewlineWithinTheLimit() => StreamTestLoop.RunAsync(async loop =>
    {
        var reader = new AsyncStreamReader(loop, limit: 8);
        reader.FeedData("0123456789"u8);
        var overrun = await Assert.ThrowsAsync<LimitOverrunException>(async () => await reader.ReadLineAsync());
        Assert.False(overrun.SeparatorFound);
        Assert.Equal(10, overrun.Consumed); // asyncio's offset: buffered - len(separator) + 1
        Assert.Equal(0, reader.BufferedCount);
        reader.FeedData("ab\n"u8);
        Assert.Equal("ab", await reader.ReadLineAsync());
    });

    [Fact]
    public Task ReadUntilAsyncThrowsLimitOverrunExceptionAndLeavesTheBytesBuffered() => StreamTestLoop.RunAsync(async loop =>
    {
        var reader = new AsyncStreamReader(loop, limit: 8);
        ValueTask<byte[]> pending = reader.ReadUntilAsync("!"u8.ToArray());
        reader.FeedData("01234"u8);
        Assert.False(pending.IsCompleted);
        reader.FeedData("56789"u8);
        var overrun = await Assert.ThrowsAsync<LimitOverrunException>(async () => await pending);
        Assert.False(overrun.SeparatorFound);
        Assert.Equal(8, overrun.Limit);
        Assert.Equal(10, reader.BufferedCount);

        reader.FeedData("!"u8); // found, but 10 bytes before it: still over the limit
        overrun = await Assert.ThrowsAsync<LimitOverrunException>(async () => await reader.ReadUntilAsync("!"u8.ToArray()));
        Assert.True(overrun.SeparatorFound);
        Assert.Equal(10, overrun.Consumed);

        byte[] rest = new byte[11];
        await reader.ReadExactlyAsync(rest);
        Assert.Equal("0123456789!"u8.ToArray(), rest);
    });

    [Fact]
    public Task ReadExactlyAsyncThrowsIncompleteReadExceptionWhenTheStreamEndsEarly() => StreamTestLoop.RunAsync(async loop =>
    {
        var outcome = new TaskCompletionSource<(IncompleteReadException, bool)>();
        Server server = loop.StartServer(async (reader, writer) =>
        {
            var error = await Assert.ThrowsAsync<IncompleteReadException>(async () => await reader.ReadExactlyAsync(new byte[20]));
            outcome.SetResult((error, reader.AtEof));
        }, StreamTestLoop.AnyLoopbackPort);
        var (_, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);

        writer.Write("0123456789"u8);
        await writer.CloseAsync();

        var (incomplete, atEof) = await outcome.Task;
        Assert.Equal(20, incomplete.Expected);
        Assert.Equal("0123456789"u8.ToArray(), incomplete.Partial.ToArray());
        Assert.Contains("10 of the 20 bytes", incomplete.Message);
        Assert.True(atEof);
        server.Close();
    });

    [Fact]
    public Task ReadUntilAsyncThrowsIncompleteReadExceptionWhenTheStreamEndsWithoutTheSeparator() => StreamTestLoop.RunAsync(async loop =>
    {
        var reader = new AsyncStreamReader(loop);
        ValueTask<byte[]> pending = reader.ReadUntilAsync("\r\n"u8.ToArray());
        reader.FeedData("no separator\r"u8);
        reader.FeedEof();
        var error = await Assert.ThrowsAsync<IncompleteReadException>(async () => await pending);
        Assert.Null(error.Expected);
        Assert.Equal("no separator\r"u8.ToArray(), error.Partial.ToArray());
        Assert.True(reader.AtEof);
    });

    [Fact]
    public Task AtEofBecomesTrueOnlyOnceTheBufferedBytesAreRead() => StreamTestLoop.RunAsync(async loop =>
    {
        var reader = new AsyncStreamReader(loop);
        Assert.False(reader.AtEof);
        reader.FeedData("abc"u8);
        reader.FeedEof();
        Assert.False(reader.AtEof);
        byte[] buffer = new byte[2];
        Assert.Equal(2, await reader.ReadAsync(buffer));
        Assert.False(reader.AtEof);
        Assert.Equal(1, await reader.ReadAsync(buffer));
        Assert.True(reader.AtEof);
        Assert.Equal(0, await reader.ReadAsync(buffer));
        Assert.Null(await reader.ReadLineAsync());
    });

    [Fact]
    public Task CancellingAPendingReadExactlyAsyncPutsThePartialBytesBack() => StreamTestLoop.RunAsync(async loop =>
    {
        var reader = new AsyncStreamReader(loop);
        using var cts = new CancellationTokenSource();
        ValueTask pending = reader.ReadExactlyAsync(new byte[10], cts.Token);
        reader.FeedData("hello"u8);
        Assert.False(pending.IsCompleted);

        cts.Cancel(); // on the loop thread: the read fails at once

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
        Assert.Equal(5, reader.BufferedCount);
        byte[] five = new byte[5];
        await reader.ReadExactlyAsync(five);
        Assert.Equal("hello"u8.ToArray(), five);
    });

    [Fact]
    public Task CancellingFromAnotherThreadFailsThePendingReadOnTheLoop() => StreamTestLoop.RunAsync(async loop =>
    {
        var reader = new AsyncStreamReader(loop);
        using var cts = new CancellationTokenSource();
        Task<string?> pending = reader.ReadLineAsync(cts.Token).AsTask();
        // Runs on the thread that completes the read (an await would come back to the loop whatever that thread was).
        Task<int> completedOn = pending.ContinueWith(_ => Environment.CurrentManagedThreadId, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        int loopThread = Environment.CurrentManagedThreadId;
        await Task.Run(cts.Cancel);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        Assert.Equal(loopThread, await completedOn);

        reader.FeedData("still works\n"u8); // the reader is free for the next read
        Assert.Equal("still works", await reader.ReadLineAsync());
    });

    [Fact]
    public Task StartingASecondReadWhileOneIsPendingThrows() => StreamTestLoop.RunAsync(async loop =>
    {
        var reader = new AsyncStreamReader(loop);
        ValueTask<int> pending = reader.ReadAsync(new byte[4]);
        var error = Assert.Throws<InvalidOperationException>(() => reader.ReadLineAsync());
        Assert.Contains("already pending", error.Message);
        reader.FeedData("x"u8);
        Assert.Equal(1, await pending);
    });

    [Fact]
    public Task ReaderPausesTheTransportAboveTwiceTheLimitAndResumesAfterReads() => StreamTestLoop.RunAsync(async loop =>
    {
        const int limit = 1024;
        byte[] payload = RandomBytes(512 * 1024, seed: 2);
        var outcome = new TaskCompletionSource<(int BufferedWhenPaused, int BufferedWhenResumed, byte[] Received)>();
        Server server = loop.StartServer(async (reader, writer) =>
        {
            reader.Limit = limit;
            Transport transport = writer.Transport;
            // No read is pending, so the reader buffers until it pauses the transport (checked every tick, bounded).
            TimeSpan deadline = loop.Time + StreamTestLoop.Timeout;
            while (transport.IsReading)
            {
                Assert.True(loop.Time < deadline, "the reader never paused the transport");
                await Task.Yield();
            }
            int bufferedWhenPaused = reader.BufferedCount;

            var received = new MemoryStream();
            byte[] chunk = new byte[100];
            while (!transport.IsReading && loop.Time < deadline)
            {
                int n = await reader.ReadAsync(chunk);
                received.Write(chunk, 0, n);
            }
            int bufferedWhenResumed = reader.BufferedCount;

            int read;
            while ((read = await reader.ReadAsync(chunk)) > 0)
            {
                received.Write(chunk, 0, read);
            }
            outcome.SetResult((bufferedWhenPaused, bufferedWhenResumed, received.ToArray()));
        }, StreamTestLoop.AnyLoopbackPort);
        var (_, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);

        writer.Write(payload);
        writer.WriteEof();

        var (bufferedWhenPaused, bufferedWhenResumed, received) = await outcome.Task;
        Assert.InRange(bufferedWhenPaused, 2 * limit + 1, 2 * limit + 64 * 1024); // at most one read past the mark
        Assert.InRange(bufferedWhenResumed, 0, limit);
        Assert.Equal(payload, received);
        await writer.CloseAsync();
        server.Close();
    });

    [Fact]
    public Task APendingReadThrowsTheConnectionErrorWhenThePeerResets() => StreamTestLoop.RunAsync(async loop =>
    {
        var go = new TaskCompletionSource();
        var outcome = new TaskCompletionSource<(Exception Read, Exception? Stored, Exception Drain)>();
        Server server = loop.StartServer(async (reader, writer) =>
        {
            await go.Task;
            writer.Write("unread"u8); // the client does not read it, so its close sends RST
            Exception read = await Assert.ThrowsAnyAsync<Exception>(async () => await reader.ReadAsync(new byte[16]));
            Exception drain = await Assert.ThrowsAnyAsync<Exception>(async () => await writer.DrainAsync());
            outcome.SetResult((read, reader.Exception, drain));
        }, StreamTestLoop.AnyLoopbackPort);
        var (_, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);
        writer.Transport.PauseReading();
        go.SetResult();
        // Only bytes still unread at close make the kernel reset instead of closing in order: wait until they are here.
        TimeSpan deadline = loop.Time + StreamTestLoop.Timeout;
        while (KernelSocket.UnreadBytes(writer.Transport.Socket!) < "unread".Length)
        {
            Assert.True(loop.Time < deadline, "the server's bytes never arrived");
            await Task.Yield();
        }
        writer.Close();

        var (read, stored, drain) = await outcome.Task;
        var reset = Assert.IsType<PosixException>(read);
        Assert.Equal(Errno.ECONNRESET, reset.Errno);
        Assert.Same(read, stored);
        Assert.Same(read, drain);
        server.Close();
    });

    [Fact]
    public Task ReadAsyncAllocatesNothingPerIterationWhenWaiting() => StreamTestLoop.RunAsync(async loop =>
    {
        Server server = loop.StartServer(EchoAsync, StreamTestLoop.AnyLoopbackPort);
        var (reader, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);
        using var cts = new CancellationTokenSource();

        double defaultToken = await MeasurePingPongAsync(reader, writer, CancellationToken.None);
        double cancellableToken = await MeasurePingPongAsync(reader, writer, cts.Token);

        output.WriteLine($"allocated per ping-pong: {defaultToken:F3} bytes (default token), {cancellableToken:F3} bytes (cancellable token)");
        // Every ReadAsync here waits: the echo has to cross the loop twice before the byte is back.
        // Less than a byte per iteration on average: a one-off allocation may happen, a per-read one may not.
        Assert.True(defaultToken < 1, $"{defaultToken:F2} bytes allocated per iteration (default token)");
        Assert.True(cancellableToken < 1, $"{cancellableToken:F2} bytes allocated per iteration (cancellable token)");
        await writer.CloseAsync();
        server.Close();
    });

    [Fact]
    public Task ReadsOfBufferedBytesAllocateNothing() => StreamTestLoop.RunAsync(async loop =>
    {
        var reader = new AsyncStreamReader(loop);
        byte[] chunk = new byte[100];
        byte[] buffer = new byte[40];
        long before = 0;
        const int Warmup = 1_000;
        const int Iterations = 10_000;
        for (int i = 0; i < Warmup + Iterations; i++)
        {
            if (i == Warmup)
            {
                before = GC.GetAllocatedBytesForCurrentThread();
            }
            reader.FeedData(chunk);
            ValueTask exactly = reader.ReadExactlyAsync(buffer);
            ValueTask<int> some = reader.ReadAsync(buffer);
            ValueTask<int> rest = reader.ReadAsync(buffer);
            if (!exactly.IsCompletedSuccessfully || some.Result != 40 || rest.Result != 20)
            {
                throw new InvalidOperationException("a read of buffered bytes did not complete synchronously");
            }
        }
        double perIteration = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Iterations;
        output.WriteLine($"allocated per feed + 3 buffered reads: {perIteration:F3} bytes");
        Assert.True(perIteration < 1, $"{perIteration:F2} bytes allocated per iteration");
        await Task.CompletedTask;
    });

    /// <summary>Bytes allocated on the loop thread per ping-pong, both ends included, after a warm-up.</summary>
    private static async Task<double> MeasurePingPongAsync(AsyncStreamReader reader, AsyncStreamWriter writer, CancellationToken token)
    {
        const int Warmup = 2_000;
        const int Iterations = 20_000;
        byte[] ping = [42];
        byte[] buffer = new byte[16];
        long before = 0;
        for (int i = 0; i < Warmup + Iterations; i++)
        {
            if (i == Warmup)
            {
                before = GC.GetAllocatedBytesForCurrentThread();
            }
            writer.Write(ping);
            ValueTask<int> read = reader.ReadAsync(buffer, token);
            if (read.IsCompleted)
            {
                throw new InvalidOperationException("the echo came back before the read was made: this measures nothing");
            }
            if (await read != 1)
            {
                throw new InvalidOperationException("the echo lost its byte");
            }
        }
        return (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Iterations;
    }

    internal static async Task EchoAsync(AsyncStreamReader reader, AsyncStreamWriter writer)
    {
        byte[] buffer = new byte[64 * 1024];
        int n;
        while ((n = await reader.ReadAsync(buffer)) > 0)
        {
            writer.Write(buffer.AsSpan(0, n));
            await writer.DrainAsync();
        }
    }

    internal static byte[] RandomBytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<List<string>> ReadAllLinesAsync(AsyncStreamReader reader)
    {
        var lines = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            lines.Add(line);
        }
        return lines;
    }
}
