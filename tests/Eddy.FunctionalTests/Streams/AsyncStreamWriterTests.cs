using System.Security.Cryptography;
using Eddy.FunctionalTests.Transports;
using Eddy.Streams;
using Eddy.Transports;
using static Eddy.FunctionalTests.Streams.AsyncStreamReaderTests;

namespace Eddy.FunctionalTests.Streams;

public sealed class AsyncStreamWriterTests
{
    [Fact]
    public Task DrainAsyncWaitsWhileThePeerDoesNotReadAndCompletesOnceItDoes() => StreamTestLoop.RunAsync(async loop =>
    {
        var startReading = new TaskCompletionSource();
        var received = new TaskCompletionSource<long>();
        Server server = loop.StartServer(async (reader, writer) =>
        {
            // The peer does not read at all: not even into its reader's buffer (which would take 128 KiB
            // before pausing by itself, and could let a small write buffer drain).
            writer.Transport.PauseReading();
            await startReading.Task;
            writer.Transport.ResumeReading();
            byte[] buffer = new byte[64 * 1024];
            long total = 0;
            int n;
            while ((n = await reader.ReadAsync(buffer)) > 0)
            {
                total += n;
            }
            received.SetResult(total);
        }, StreamTestLoop.AnyLoopbackPort);
        var (_, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);
        Transport transport = writer.Transport;
        transport.SetWriteBufferLimits(16 * 1024);

        // Fill the kernel's buffers (both ends) until the transport has to keep bytes and pauses us.
        byte[] chunk = new byte[64 * 1024];
        long sent = 0;
        // On io_uring every write waits in the buffer for the loop's next wait, so "full" is what is still
        // buffered after the loop has run.
        while (true)
        {
            writer.Write(chunk);
            sent += chunk.Length;
            Assert.True(sent < 1L << 30, "the transport never buffered: the peer's kernel took 1 GiB");
            if (transport.WriteBufferSize > transport.WriteBufferHighWaterMark)
            {
                await loop.Delay(TimeSpan.FromMilliseconds(1));
                if (transport.WriteBufferSize > transport.WriteBufferHighWaterMark)
                {
                    break;
                }
            }
        }
        // "Full" above is a moment, not a state: on io_uring a send in flight counts as buffered until it completes,
        // and on a busy machine 1 ms can pass before the kernel has taken it all (then the "full" buffer was one
        // 64 KiB send the kernel then took); and the kernel's buffers can grow up to tcp_rmem's and tcp_wmem's
        // maxima. Keep more than both could ever hold, so that only the peer's reading can drain the transport.
        for (long extra = TestData.KernelBufferMax("tcp_rmem") + TestData.KernelBufferMax("tcp_wmem") + chunk.Length; extra > 0; extra -= chunk.Length)
        {
            writer.Write(chunk);
            sent += chunk.Length;
        }

        ValueTask drain = writer.DrainAsync();
        Assert.False(drain.IsCompleted);
        for (int i = 0; i < 5; i++)
        {
            await loop.Delay(TimeSpan.FromMilliseconds(2)); // the loop runs, but nobody reads
            Assert.False(drain.IsCompleted);
        }

        startReading.SetResult();
        await drain;
        Assert.True(transport.WriteBufferSize <= transport.WriteBufferLowWaterMark);

        writer.WriteEof();
        Assert.Equal(sent, await received.Task);
        await writer.CloseAsync();
        server.Close();
    });

    [Fact]
    public Task DrainAsyncCompletesAtOnceWhenWritingIsNotPaused() => StreamTestLoop.RunAsync(async loop =>
    {
        Server server = loop.StartServer(EchoAsync, StreamTestLoop.AnyLoopbackPort);
        var (_, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);
        writer.Write("small"u8);
        Assert.True(writer.DrainAsync().IsCompletedSuccessfully);
        await writer.CloseAsync();
        server.Close();
    });

    [Fact]
    public Task WriteEofHalfClosesAndTheClientStillReadsTheWholeAnswer() => StreamTestLoop.RunAsync(async loop =>
    {
        byte[] request = RandomBytes(300_000, seed: 3);
        Server server = loop.StartServer(async (reader, writer) =>
        {
            // Read everything up to the client's EOF, then answer: the hash, then the request reversed.
            var received = new MemoryStream();
            byte[] buffer = new byte[8192];
            int n;
            while ((n = await reader.ReadAsync(buffer)) > 0)
            {
                received.Write(buffer, 0, n);
            }
            Assert.True(reader.AtEof);
            byte[] body = received.ToArray();
            writer.Write(SHA256.HashData(body));
            Array.Reverse(body);
            writer.Write(body);
            await writer.DrainAsync();
            writer.Close();
        }, StreamTestLoop.AnyLoopbackPort);
        var (reader, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);
        Assert.True(writer.CanWriteEof);

        writer.Write(request);
        writer.WriteEof();
        Assert.False(writer.IsClosing); // half-closed: still open for reading

        byte[] hash = new byte[32];
        await reader.ReadExactlyAsync(hash);
        byte[] reversed = new byte[request.Length];
        await reader.ReadExactlyAsync(reversed);
        Assert.Equal(0, await reader.ReadAsync(new byte[1]));
        Assert.True(reader.AtEof);

        Assert.Equal(SHA256.HashData(request), hash);
        Array.Reverse(reversed);
        Assert.Equal(request, reversed);
        await writer.CloseAsync();
        server.Close();
        await server.WaitClosedAsync();
    });

    [Fact]
    public Task CloseAsyncCompletesOnceTheConnectionIsGoneAndLaterDrainsThrow() => StreamTestLoop.RunAsync(async loop =>
    {
        var serverSawEof = new TaskCompletionSource<bool>();
        Server server = loop.StartServer(async (reader, writer) =>
        {
            serverSawEof.SetResult(await reader.ReadAsync(new byte[1]) == 0);
        }, StreamTestLoop.AnyLoopbackPort);
        var (reader, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);
        Assert.NotNull(writer.LocalEndPoint);
        Assert.Equal(server.EndPoints[0], writer.RemoteEndPoint);

        await writer.CloseAsync();

        Assert.True(writer.IsClosing);
        Assert.Null(writer.RemoteEndPoint);
        Assert.True(reader.AtEof); // a clean local close ends the read side too
        Assert.True(await serverSawEof.Task);
        await Assert.ThrowsAsync<IOException>(async () => await writer.DrainAsync());
        await writer.CloseAsync(); // idempotent
        server.Close();
        await server.WaitClosedAsync();
    });
}
