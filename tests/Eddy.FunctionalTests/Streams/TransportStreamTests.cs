using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Eddy.Streams;
using Eddy.Transports;
using static Eddy.FunctionalTests.Streams.AsyncStreamReaderTests;

namespace Eddy.FunctionalTests.Streams;

public sealed class TransportStreamTests
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    [Fact]
    public Task StreamReaderAndStreamWriterRoundTripTextOverATransportStream() => StreamTestLoop.RunAsync(async loop =>
    {
        int loopThread = Environment.CurrentManagedThreadId;
        var serverThreads = new List<int>();
        Server server = loop.StartServer(async (reader, writer) =>
        {
            // A plain .NET text pipeline; the BCL awaits with ConfigureAwait(false) inside, and Eddy's
            // awaitables still complete, and continue, on the loop thread.
            await using var stream = new TransportStream(reader, writer);
            using var input = new StreamReader(stream, Utf8NoBom, detectEncodingFromByteOrderMarks: false, bufferSize: 64, leaveOpen: true);
            await using var output = new StreamWriter(stream, Utf8NoBom, bufferSize: 64, leaveOpen: true) { NewLine = "\n" };
            while (await input.ReadLineAsync() is { } line)
            {
                serverThreads.Add(Environment.CurrentManagedThreadId);
                await output.WriteLineAsync(line.ToUpperInvariant());
                await output.FlushAsync();
            }
        }, StreamTestLoop.AnyLoopbackPort);
        var (reader, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);
        using var client = new TransportStream(reader, writer);

        string[] lines = ["hello", "stream over eddy", "ünïcödé survives", new string('z', 5000)];
        await using (var output = new StreamWriter(client, Utf8NoBom, bufferSize: 128, leaveOpen: true) { NewLine = "\n" })
        {
            foreach (string line in lines)
            {
                await output.WriteLineAsync(line);
            }
        }
        writer.WriteEof();

        var answer = new MemoryStream();
        await client.CopyToAsync(answer);

        string expected = string.Concat(lines.Select(l => l.ToUpperInvariant() + "\n"));
        Assert.Equal(expected, Utf8NoBom.GetString(answer.ToArray()));
        Assert.Equal(loopThread, Environment.CurrentManagedThreadId);
        Assert.Equal(lines.Length, serverThreads.Count);
        Assert.All(serverThreads, thread => Assert.Equal(loopThread, thread));
        server.Close();
        await server.WaitClosedAsync();
    });

    [Fact]
    public Task AStreamReaderStaysOnTheLoopThreadWhileALineArrivesInManyPieces() => StreamTestLoop.RunAsync(async loop =>
    {
        // StreamReader.ReadLineAsync is a Task-based async method awaiting ReadAsync with ConfigureAwait(false).
        // When a read completes on the loop, its continuation must not be sent to the thread pool: the next
        // ReadAsync would then come from a pool thread.
        int loopThread = Environment.CurrentManagedThreadId;
        var line = new TaskCompletionSource<string?>();
        Server server = loop.StartServer(async (reader, writer) =>
        {
            using var stream = new TransportStream(reader, writer);
            using var input = new StreamReader(stream, Utf8NoBom, detectEncodingFromByteOrderMarks: false, bufferSize: 16, leaveOpen: true);
            line.SetResult(await input.ReadLineAsync());
        }, StreamTestLoop.AnyLoopbackPort);
        var (_, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);

        for (int i = 0; i < 50; i++)
        {
            writer.Write("0123456789"u8);
            await loop.Delay(TimeSpan.Zero); // the server reads each piece apart, so every ReadAsync waits
        }
        writer.Write("\n"u8);

        Assert.Equal(string.Concat(Enumerable.Repeat("0123456789", 50)), await line.Task);
        Assert.Equal(loopThread, Environment.CurrentManagedThreadId);
        await writer.CloseAsync();
        server.Close();
    });

    [Fact]
    public Task CopyToAsyncMovesALargePayloadBothWays() => StreamTestLoop.RunAsync(async loop =>
    {
        Server server = loop.StartServer(async (reader, writer) =>
        {
            using var stream = new TransportStream(reader, writer);
            await stream.CopyToAsync(stream); // echo: read to EOF, writing (and draining) as it goes
        }, StreamTestLoop.AnyLoopbackPort);
        var (reader, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);
        using var client = new TransportStream(reader, writer);
        byte[] payload = RandomBytes(2_000_000, seed: 4);

        Task<byte[]> receive = ReceiveAllAsync(client);
        await new MemoryStream(payload).CopyToAsync(client);
        writer.WriteEof();

        Assert.Equal(payload, await receive);
        server.Close();
        await server.WaitClosedAsync();
    });

    [Fact]
    public Task SslStreamHandshakesAndRoundTripsOverTransportStreamsOnTheLoopThread() => StreamTestLoop.RunAsync(async loop =>
    {
        using X509Certificate2 certificate = CreateSelfSignedCertificate();
        int loopThread = Environment.CurrentManagedThreadId;
        var serverThreads = new List<int>();
        Server server = loop.StartServer(async (reader, writer) =>
        {
            await using var tls = new SslStream(new TransportStream(reader, writer));
            await tls.AuthenticateAsServerAsync(certificate);
            serverThreads.Add(Environment.CurrentManagedThreadId);
            byte[] buffer = new byte[16 * 1024];
            int n;
            while ((n = await tls.ReadAsync(buffer)) > 0)
            {
                serverThreads.Add(Environment.CurrentManagedThreadId);
                await tls.WriteAsync(buffer.AsMemory(0, n));
            }
        }, StreamTestLoop.AnyLoopbackPort);
        var (reader, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);
        await using var client = new SslStream(new TransportStream(reader, writer), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await client.AuthenticateAsClientAsync("localhost");
        byte[] payload = RandomBytes(300_000, seed: 5);

        byte[] echoed = new byte[payload.Length];
        Task receive = client.ReadExactlyAsync(echoed).AsTask();
        await client.WriteAsync(payload);
        await receive;

        Assert.Equal(payload, echoed);
        Assert.Equal(loopThread, Environment.CurrentManagedThreadId);
        Assert.NotEmpty(serverThreads);
        Assert.All(serverThreads, thread => Assert.Equal(loopThread, thread));
        server.Close();
    });

    [Fact]
    public Task SynchronousReadAndWriteThrowNotSupportedExceptionPointingToTheAsyncMethods() => StreamTestLoop.RunAsync(async loop =>
    {
        Server server = loop.StartServer(EchoAsync, StreamTestLoop.AnyLoopbackPort);
        var (reader, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);
        var stream = new TransportStream(reader, writer);

        Assert.True(stream.CanRead);
        Assert.True(stream.CanWrite);
        Assert.False(stream.CanSeek);
        var read = Assert.Throws<NotSupportedException>(() => stream.Read(new byte[1], 0, 1));
        Assert.Contains("ReadAsync", read.Message);
        Assert.Contains("deadlock", read.Message);
        Assert.Throws<NotSupportedException>(() => stream.Write(new byte[1], 0, 1));
        Assert.Throws<NotSupportedException>(() => stream.ReadByte());
        Assert.Throws<NotSupportedException>(() => stream.Length);
        stream.Flush(); // a no-op: written bytes are already with the transport

        stream.Dispose();
        Assert.False(stream.CanRead);
        Assert.True(writer.IsClosing);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => _ = await stream.ReadAsync(new byte[1]));
        server.Close();
    });

    [Fact]
    public Task CallsFromOffTheLoopThreadThrowInvalidOperationException() => StreamTestLoop.RunAsync(async loop =>
    {
        Server server = loop.StartServer(EchoAsync, StreamTestLoop.AnyLoopbackPort);
        var (reader, writer) = await loop.OpenConnectionAsync(server.EndPoints[0]);
        using var stream = new TransportStream(reader, writer);

        var error = await Task.Run(() => Assert.ThrowsAsync<InvalidOperationException>(async () => _ = await stream.ReadAsync(new byte[1])));
        Assert.Contains("loop thread", error.Message);
        server.Close();
    });

    private static X509Certificate2 CreateSelfSignedCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // OpenSSL wants the key in a real store format, not the ephemeral one CreateSelfSigned returns.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), password: null);
    }

    private static async Task<byte[]> ReceiveAllAsync(Stream stream)
    {
        var received = new MemoryStream();
        await stream.CopyToAsync(received);
        return received.ToArray();
    }
}
