using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Eddy.FunctionalTests.Streams;
using Eddy.Loop;
using Eddy.Streams;
using Eddy.Tls;
using Eddy.Transports;

namespace Eddy.FunctionalTests.Tls;

/// <summary>
/// TLS at the transport layer: what the TCP transport promises (order, integrity, half-close, back-pressure,
/// ConnectionLost once) holds over <see cref="TlsTransport"/>, every callback runs on the loop thread, and the
/// server's choices (SNI, ALPN, client certificates) and the client's validation work.
/// </summary>
public sealed class TlsTransportTests
{
    private static readonly IPEndPoint AnyPort = StreamTestLoop.AnyLoopbackPort;

    [Theory]
    [InlineData(1)]
    [InlineData(1_000)]
    [InlineData(16_384)]
    [InlineData(16_385)]
    [InlineData(100_000)]
    [InlineData(1_048_577)]
    [InlineData(8 * 1024 * 1024)]
    public Task EchoesPayloadsOfEverySizeIntactOnTheLoopThread(int size) => StreamTestLoop.RunAsync(async loop =>
    {
        int loopThread = Environment.CurrentManagedThreadId;
        SynchronizationContext? loopContext = SynchronizationContext.Current;
        var threads = new HashSet<int>();
        var contexts = new HashSet<SynchronizationContext?>();
        Server server = loop.StartServer(async (reader, writer) =>
        {
            contexts.Add(SynchronizationContext.Current); // the loop's: what the handler's awaits come back to
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = await reader.ReadAsync(buffer)) > 0)
            {
                threads.Add(Environment.CurrentManagedThreadId);
                writer.Write(buffer.AsSpan(0, n));
                await writer.DrainAsync();
            }
            threads.Add(Environment.CurrentManagedThreadId); // the end of the stream too: the handler never leaves the loop
            writer.WriteEof();
        }, AnyPort, TlsTestCertificates.ServerOptions());
        X509Certificate2 certificate = TlsTestCertificates.Create("localhost");

        var (reader, writer) = await loop.OpenConnectionAsync("127.0.0.1", server.Port, TlsTestCertificates.Trusting(certificate, "localhost"));
        byte[] payload = RandomNumberGenerator.GetBytes(size);
        Task<byte[]> echoed = ReadToEndAsync(reader);
        writer.Write(payload);
        await writer.DrainAsync();
        writer.WriteEof();

        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(await echoed));
        Assert.Equal([loopThread], threads);
        Assert.NotNull(loopContext);
        Assert.Equal([loopContext], contexts);
        Assert.Equal(loopThread, Environment.CurrentManagedThreadId);
        server.Close();
        await server.WaitClosedAsync();
    });

    [Fact]
    public Task ProtocolHearsMadeDataEofAndLostOnceInOrder() => StreamTestLoop.RunAsync(async loop =>
    {
        var serverSide = new RecordingProtocol(keepOpenOnEof: true);
        Server server = loop.CreateServer(() => serverSide, AnyPort, TlsTestCertificates.ServerOptions());
        X509Certificate2 certificate = TlsTestCertificates.Create("localhost");

        var (transport, client) = await loop.CreateConnectionAsync(() => new RecordingProtocol(keepOpenOnEof: false), "127.0.0.1", server.Port,
            TlsTestCertificates.Trusting(certificate, "localhost"));
        transport.Write("hello"u8);
        transport.WriteEof(); // close_notify: the server's protocol hears EOF and may still answer
        await serverSide.Eof.Task.WaitAsync(StreamTestLoop.Timeout);
        Assert.Equal("hello", serverSide.Text);
        Assert.IsType<TlsTransport>(serverSide.Transport);
        serverSide.Transport!.Write("bye"u8);
        serverSide.Transport.Close();

        await client.Lost.Task.WaitAsync(StreamTestLoop.Timeout);
        await serverSide.Lost.Task.WaitAsync(StreamTestLoop.Timeout);
        Assert.Equal("bye", client.Text);
        Assert.Equal(["made", "data", "eof", "lost"], client.Events.Distinct());
        Assert.Equal(["made", "data", "eof", "lost"], serverSide.Events.Distinct());
        Assert.Equal(1, client.Events.Count(e => e == "lost"));
        Assert.Equal(1, serverSide.Events.Count(e => e == "lost"));
        Assert.Null(client.LostError);
        server.Close();
    });

    [Fact]
    public Task PausedReadingHoldsTheDataBackAndTheSenderFeelsIt() => StreamTestLoop.RunAsync(async loop =>
    {
        var serverSide = new RecordingProtocol(keepOpenOnEof: false) { PauseOnConnect = true };
        Server server = loop.CreateServer(() => serverSide, AnyPort, TlsTestCertificates.ServerOptions());
        var (transport, client) = await loop.CreateConnectionAsync(() => new RecordingProtocol(keepOpenOnEof: false), "127.0.0.1", server.Port,
            new TlsClientOptions { SkipServerCertificateValidation = true });
        await serverSide.Made.Task.WaitAsync(StreamTestLoop.Timeout);

        // Write until the client's transport pauses its protocol: the server read nothing, so TCP stopped taking records.
        byte[] chunk = RandomNumberGenerator.GetBytes(64 * 1024);
        var sent = new MemoryStream();
        while (!client.WritingPaused)
        {
            transport.Write(chunk);
            sent.Write(chunk);
            await loop.Delay(TimeSpan.Zero); // let the loop flush what the socket takes
            Assert.True(sent.Length < 512L * 1024 * 1024, "the sender never felt back-pressure");
        }
        Assert.Equal(0, serverSide.Received.Length);
        Assert.False(serverSide.Transport!.IsReading);

        serverSide.Transport.ResumeReading();
        transport.WriteEof();
        await serverSide.Eof.Task.WaitAsync(StreamTestLoop.Timeout);
        Assert.Equal(SHA256.HashData(sent.ToArray()), SHA256.HashData(serverSide.Received.ToArray()));
        Assert.True(client.ResumedWriting);
        server.Close();
    });

    [Fact]
    public Task SniPicksTheCertificateForTheNameAndTheFirstOtherwise() => StreamTestLoop.RunAsync(async loop =>
    {
        TlsServerOptions options = TlsTestCertificates.ServerOptions(["default.test"], ["a.test"], ["*.b.test"]);
        Server server = loop.StartServer(async (reader, writer) => { await reader.ReadAsync(new byte[1]); }, AnyPort, options);

        async Task<string> ServedNameAsync(string? serverName)
        {
            X509Certificate2? seen = null;
            var client = new TlsClientOptions
            {
                ServerName = serverName,
                ServerCertificateValidation = (certificate, _, _) => { seen = certificate; return true; },
            };
            (Transport transport, _) = await loop.CreateConnectionAsync(() => new RecordingProtocol(false), "127.0.0.1", server.Port, client);
            transport.Close();
            return seen!.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        }

        Assert.Equal("a.test", await ServedNameAsync("a.test"));
        Assert.Equal("a.test", await ServedNameAsync("A.TEST"));
        Assert.Equal("*.b.test", await ServedNameAsync("x.b.test"));
        Assert.Equal("default.test", await ServedNameAsync("y.x.b.test"));
        Assert.Equal("default.test", await ServedNameAsync("other.test"));
        Assert.Equal("default.test", await ServedNameAsync("127.0.0.1")); // an IP address is not sent as SNI
        server.Close();
    });

    [Fact]
    public Task AlpnAgreesOnHttp11AndTheTransportSaysSo() => StreamTestLoop.RunAsync(async loop =>
    {
        var serverSide = new RecordingProtocol(false);
        Server server = loop.CreateServer(() => serverSide, AnyPort, TlsTestCertificates.ServerOptions());
        var client = new TlsClientOptions { SkipServerCertificateValidation = true };
        client.ApplicationProtocols.AddRange([SslApplicationProtocol.Http2, SslApplicationProtocol.Http11]);

        client.ServerName = "localhost";
        (TlsTransport transport, _) = await loop.CreateConnectionAsync(() => new RecordingProtocol(false), "127.0.0.1", server.Port, client);
        await serverSide.Made.Task.WaitAsync(StreamTestLoop.Timeout);

        Assert.Equal(SslApplicationProtocol.Http11, transport.NegotiatedApplicationProtocol);
        var serverTls = (TlsTransport)serverSide.Transport!;
        Assert.Equal(SslApplicationProtocol.Http11, serverTls.NegotiatedApplicationProtocol);
        Assert.True(transport.TlsVersion is SslProtocols.Tls13 or SslProtocols.Tls12);
        Assert.True(transport.HandshakeDuration > TimeSpan.Zero && transport.HandshakeDuration < StreamTestLoop.Timeout);
        Assert.Equal("localhost", serverTls.HostName); // the SNI name the client sent
        transport.Close();
        server.Close();
    });

    [Fact]
    public Task ClientRejectsAnUntrustedOrWrongNameCertificateWithAClearError() => StreamTestLoop.RunAsync(async loop =>
    {
        Server server = loop.CreateServer(() => new RecordingProtocol(false), AnyPort, TlsTestCertificates.ServerOptions(["right.test"]));
        X509Certificate2 certificate = TlsTestCertificates.Create("right.test");

        // Not in the system's trust store.
        await Assert.ThrowsAsync<AuthenticationException>(async () =>
            await loop.CreateConnectionAsync(() => new RecordingProtocol(false), "127.0.0.1", server.Port, new TlsClientOptions { ServerName = "right.test" }));
        // Trusted, but for another name.
        await Assert.ThrowsAsync<AuthenticationException>(async () =>
            await loop.CreateConnectionAsync(() => new RecordingProtocol(false), "127.0.0.1", server.Port, TlsTestCertificates.Trusting(certificate, "wrong.test")));
        // Trusted and the right name.
        (TlsTransport ok, _) = await loop.CreateConnectionAsync(() => new RecordingProtocol(false), "127.0.0.1", server.Port, TlsTestCertificates.Trusting(certificate, "right.test"));
        Assert.Equal(certificate.Thumbprint, ok.RemoteCertificate!.Thumbprint);
        ok.Close();
        server.Close();
        await server.WaitClosedAsync(); // (with TLS 1.3 the server's side finished its handshake before the client refused: closed too)
    });

    [Fact]
    public Task ExpiredCertificateFailsTheClient() => StreamTestLoop.RunAsync(async loop =>
    {
        X509Certificate2 expired = TlsTestCertificates.Create(["old.test"], DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1));
        var options = new TlsServerOptions();
        options.Certificates.Add(TlsCertificate.FromCertificate(expired));
        Server server = loop.CreateServer(() => new RecordingProtocol(false), AnyPort, options);

        AuthenticationException e = await Assert.ThrowsAsync<AuthenticationException>(async () =>
            await loop.CreateConnectionAsync(() => new RecordingProtocol(false), "127.0.0.1", server.Port, TlsTestCertificates.Trusting(expired, "old.test")));
        Assert.Contains("remote certificate", e.Message, StringComparison.OrdinalIgnoreCase);
        server.Close();
    });

    [Fact]
    public Task RequiredClientCertificateIsCheckedAndShownToTheServer() => StreamTestLoop.RunAsync(async loop =>
    {
        X509Certificate2 clientCertificate = TlsTestCertificates.CreateClient("client.test");
        TlsServerOptions options = TlsTestCertificates.ServerOptions();
        options.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
        options.ClientCertificateValidation = (certificate, _, _) => certificate.Thumbprint == clientCertificate.Thumbprint;
        var serverSide = new RecordingProtocol(false);
        Server server = loop.CreateServer(() => serverSide, AnyPort, options);

        // Without a certificate: the server refuses the handshake (TLS 1.3 may report it at the first read).
        var bare = new TlsClientOptions { SkipServerCertificateValidation = true };
        Exception? refused = await Record.ExceptionAsync(async () =>
        {
            (Transport t, RecordingProtocol p) = await loop.CreateConnectionAsync(() => new RecordingProtocol(false), "127.0.0.1", server.Port, bare);
            t.Write("x"u8);
            await p.Lost.Task.WaitAsync(StreamTestLoop.Timeout);
        });
        Assert.False(serverSide.Made.Task.IsCompleted);

        var withCertificate = new TlsClientOptions { SkipServerCertificateValidation = true, ClientCertificate = clientCertificate };
        (TlsTransport transport, _) = await loop.CreateConnectionAsync(() => new RecordingProtocol(false), "127.0.0.1", server.Port, withCertificate);
        await serverSide.Made.Task.WaitAsync(StreamTestLoop.Timeout);
        Assert.Equal(clientCertificate.Thumbprint, ((TlsTransport)serverSide.Transport!).RemoteCertificate!.Thumbprint);
        transport.Close();
        server.Close();
    });

    [Fact]
    public Task AnOptionalClientCertificateMayBeLeftOutButOneSentMustPass() => StreamTestLoop.RunAsync(async loop =>
    {
        X509Certificate2 trusted = TlsTestCertificates.CreateClient("trusted.test");
        X509Certificate2 other = TlsTestCertificates.CreateClient("other.test");
        TlsServerOptions options = TlsTestCertificates.ServerOptions();
        options.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
        options.ClientCertificateValidation = (certificate, _, _) => certificate.Thumbprint == trusted.Thumbprint;
        var made = new List<TlsTransport>();
        var madeOne = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = loop.CreateServer(() => new CountingProtocol(t => { made.Add((TlsTransport)t); madeOne.TrySetResult(); }), AnyPort, options);

        (TlsTransport none, _) = await loop.CreateConnectionAsync(() => new RecordingProtocol(false), "127.0.0.1", server.Port,
            new TlsClientOptions { SkipServerCertificateValidation = true });
        await madeOne.Task.WaitAsync(StreamTestLoop.Timeout);
        Assert.Null(made[0].RemoteCertificate);

        // A certificate the validation refuses ends the connection before the server's protocol hears of it (with
        // TLS 1.3 the client's handshake is done first: it sees the connection end at its first read).
        var refusedClient = new RecordingProtocol(false);
        await Record.ExceptionAsync(async () =>
        {
            (Transport t, RecordingProtocol p) = await loop.CreateConnectionAsync(() => refusedClient, "127.0.0.1", server.Port,
                new TlsClientOptions { SkipServerCertificateValidation = true, ClientCertificate = other });
            t.Write("x"u8);
            await p.Lost.Task.WaitAsync(StreamTestLoop.Timeout);
        });
        Assert.Equal(0, refusedClient.Received.Length);
        Assert.Single(made);
        none.Close();
        server.Close();
    });

    [Fact]
    public Task AStalledHandshakeIsClosedAtTheTimeoutAndOthersAreServed() => StreamTestLoop.RunAsync(async loop =>
    {
        TlsServerOptions options = TlsTestCertificates.ServerOptions();
        options.HandshakeTimeout = TimeSpan.FromMilliseconds(300);
        int made = 0;
        Server server = loop.CreateServer(() => new CountingProtocol(() => made++), AnyPort, options);

        // A raw client that connects and says nothing (slowloris in the handshake), one that sends half a ClientHello.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(IPAddress.Loopback, server.Port);
        using var partial = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await partial.ConnectAsync(IPAddress.Loopback, server.Port);
        await partial.SendAsync(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00 });

        Assert.Equal(0, await ReceiveUntilClosedAsync(silent));
        Assert.Equal(0, await ReceiveUntilClosedAsync(partial));
        var (transport, _) = await loop.CreateConnectionAsync(() => new RecordingProtocol(false), "127.0.0.1", server.Port,
            new TlsClientOptions { SkipServerCertificateValidation = true });
        transport.Close();
        server.Close();
        await server.WaitClosedAsync();
        Assert.Equal(1, made);
    });

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")]
    [InlineData("\u0016\u0003\u0001\u0000\u0005hello garbage that is no ClientHello")]
    [InlineData("\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008 binary noise")]
    public Task GarbageOrPlainHttpEndsThatConnectionOnlyAndQuietly(string garbage) => StreamTestLoop.RunAsync(async loop =>
    {
        Server server = loop.StartServer(async (reader, writer) =>
        {
            byte[] buffer = new byte[100];
            int n = await reader.ReadAsync(buffer);
            writer.Write(buffer.AsSpan(0, n));
        }, AnyPort, TlsTestCertificates.ServerOptions());
        var (goodReader, goodWriter) = await loop.OpenConnectionAsync("127.0.0.1", server.Port, new TlsClientOptions { SkipServerCertificateValidation = true });

        using var bad = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await bad.ConnectAsync(IPAddress.Loopback, server.Port);
        await bad.SendAsync(System.Text.Encoding.Latin1.GetBytes(garbage));
        await ReceiveUntilClosedAsync(bad);

        goodWriter.Write("still here"u8);
        Assert.Equal("still here", System.Text.Encoding.ASCII.GetString(await ReadToEndAsync(goodReader)));
        server.Close();
    });

    [Fact]
    public Task APeerThatVanishesMidHandshakeOrMidRecordLeavesNoTrace() => StreamTestLoop.RunAsync(async loop =>
    {
        var serverSide = new RecordingProtocol(false);
        Server server = loop.CreateServer(() => serverSide, AnyPort, TlsTestCertificates.ServerOptions());

        // Mid-handshake: a ClientHello's first bytes, then a reset.
        using (var vanishing = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await vanishing.ConnectAsync(IPAddress.Loopback, server.Port);
            await vanishing.SendAsync(new byte[] { 0x16, 0x03, 0x01 });
            vanishing.LingerState = new LingerOption(true, 0);
        }
        // Mid-record: a real session (a BCL client) that sends a record header cut short, then ends.
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(IPAddress.Loopback, server.Port);
            var network = new NetworkStream(socket, ownsSocket: false);
            await using var client = new SslStream(network, leaveInnerStreamOpen: true, (_, _, _, _) => true);
            await client.AuthenticateAsClientAsync("localhost");
            await serverSide.Made.Task.WaitAsync(StreamTestLoop.Timeout);
            await network.WriteAsync(new byte[] { 0x17, 0x03, 0x03, 0x40 }); // an application-data header, no body
            socket.Shutdown(SocketShutdown.Send);
            await serverSide.Lost.Task.WaitAsync(StreamTestLoop.Timeout);
        }
        Assert.IsAssignableFrom<IOException>(serverSide.LostError);
        server.Close();
        await server.WaitClosedAsync();
    });

    private static async Task<byte[]> ReadToEndAsync(AsyncStreamReader reader)
    {
        var received = new MemoryStream();
        byte[] buffer = new byte[64 * 1024];
        int n;
        while ((n = await reader.ReadAsync(buffer)) > 0)
        {
            received.Write(buffer, 0, n);
        }
        return received.ToArray();
    }

    /// <summary>Reads a raw socket until the server closes it; returns the bytes received.</summary>
    private static async Task<int> ReceiveUntilClosedAsync(Socket socket)
    {
        byte[] buffer = new byte[4096];
        int total = 0;
        while (true)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(StreamTestLoop.Timeout);
            }
            catch (SocketException)
            {
                return total; // reset: closed too
            }
            if (n == 0)
            {
                return total;
            }
            total += n;
        }
    }

    private sealed class CountingProtocol(Action<Transport> onMade) : Protocol
    {
        public CountingProtocol(Action onMade)
            : this(_ => onMade())
        {
        }

        public override void ConnectionMade(Transport transport) => onMade(transport);
    }

    /// <summary>Records each callback (on the loop thread) and what arrived.</summary>
    private sealed class RecordingProtocol(bool keepOpenOnEof) : Protocol
    {
        public List<string> Events { get; } = [];
        public MemoryStream Received { get; } = new();
        public Transport? Transport { get; private set; }
        public Exception? LostError { get; private set; }
        public bool PauseOnConnect { get; init; }
        public bool WritingPaused { get; private set; }
        public bool ResumedWriting { get; private set; }
        public TaskCompletionSource Made { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Eof { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Lost { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public string Text => System.Text.Encoding.ASCII.GetString(Received.ToArray());

        public override void ConnectionMade(Transport transport)
        {
            Events.Add("made");
            Transport = transport;
            if (PauseOnConnect)
            {
                transport.PauseReading();
            }
            Made.TrySetResult();
        }

        public override void DataReceived(ReadOnlySpan<byte> data)
        {
            Events.Add("data");
            Received.Write(data);
        }

        public override bool EofReceived()
        {
            Events.Add("eof");
            Eof.TrySetResult();
            return keepOpenOnEof;
        }

        public override void PauseWriting() => WritingPaused = true;

        public override void ResumeWriting()
        {
            WritingPaused = false;
            ResumedWriting = true;
        }

        public override void ConnectionLost(Exception? error)
        {
            Events.Add("lost");
            LostError = error;
            Lost.TrySetResult();
        }
    }
}
