using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Eddy.Loop;
using Eddy.Loop.Internal;
using Eddy.Sockets;
using Eddy.Tls.Internal;
using Eddy.Transports;

namespace Eddy.Tls;

/// <summary>
/// A TLS connection as a <see cref="Transport"/>: its protocol sees plaintext, with the contract of the TCP
/// transport it runs over (ordering, back-pressure, half-close, <see cref="Protocol.ConnectionLost"/> exactly
/// once), so everything built on transports (streams, HTTP) works unchanged over it. The design is uvloop's
/// <c>sslproto</c>: the TLS transport is the protocol of the TCP transport (records in), and writes records to
/// it (records out); in between, the platform's <see cref="SslStream"/> (OpenSSL) runs over an in-memory
/// stream, driven on the loop thread. The handshake runs first; the protocol's
/// <see cref="Protocol.ConnectionMade"/> comes once it has succeeded, and a handshake that fails or times out
/// closes the connection without the protocol hearing of it (a client's connect fails with the reason).
/// <para>
/// Where the work runs: all of it on the loop thread. Records are fed to SslStream from the TCP transport's
/// read callback and SslStream's continuations run inline there (nothing is queued to the thread pool); a
/// write encrypts synchronously and hands the records to the TCP transport. Reads wait with zero-byte reads,
/// so an idle connection holds no buffer. Loop thread only, as every transport.
/// </para>
/// </summary>
public sealed class TlsTransport : Transport
{
    private const int PlaintextBufferSize = 16 * 1024; // one TLS record's payload at most

    private readonly EventLoop _loop;
    private readonly Transport _connection;
    private readonly TlsRecordStream _records;
    private readonly SslStream _ssl;
    private readonly Action _onReadReady;
    private Protocol _protocol;

    private Task? _handshake;
    private TimerHandle? _handshakeTimer;
    private Exception? _handshakeError;
    private TaskCompletionSource? _connected;   // a client's connect, completed by the handshake
    private long _handshakeStarted;

    private bool _open;            // the handshake succeeded and ConnectionMade was called
    private bool _closing;         // Close/Abort called, or failed: the protocol gets no more data
    private bool _lost;            // the connection's ConnectionLost came: nothing more happens
    private bool _readPaused;      // the protocol paused reading
    private bool _recordsFull;     // records wait unread: the connection's reading is paused
    private bool _eofDelivered;    // the peer's close_notify (or EOF) was passed on
    private bool _eofSent;         // WriteEof sent close_notify
    private bool _pumping;         // inside Pump (re-entrance guard)
    private bool _readPending;     // a zero-byte read waits in SslStream
    private bool _readCompleted;   // ... and has completed, to be collected by Pump
    private ValueTask<int> _pendingRead;
    private int _writing;          // inside SslStream.Write: defer PauseWriting to after it
    private bool _pauseWritingDeferred;
    private Exception? _error;     // why the connection failed, for ConnectionLost

    private TlsTransport(EventLoop loop, Transport connection, Protocol protocol)
    {
        _loop = loop;
        _connection = connection;
        _protocol = protocol;
        _records = new TlsRecordStream(connection) { Drained = OnRecordsDrained };
        _ssl = new SslStream(_records, leaveInnerStreamOpen: true);
        _onReadReady = OnReadReady;
    }

    /// <summary>
    /// The protocol to run on an accepted connection (a server's protocol factory returns it): it speaks TLS as
    /// <paramref name="options"/> say to the peer, and runs <paramref name="protocol"/> over it once the handshake
    /// has succeeded.
    /// </summary>
    public static Protocol CreateServerProtocol(EventLoop loop, Protocol protocol, TlsServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new RecordProtocol(loop, protocol, options, client: null, host: null);
    }

    /// <summary>
    /// The protocol to run on a client connection: it starts the handshake as <paramref name="options"/> say when
    /// the connection is made, then runs <paramref name="protocol"/>. <see cref="WaitConnectedAsync"/> of the
    /// returned protocol's transport says when (and whether) the handshake succeeded.
    /// </summary>
    internal static RecordProtocol CreateClientProtocol(EventLoop loop, Protocol protocol, TlsClientOptions options, string host)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new RecordProtocol(loop, protocol, server: null, options, host);
    }

    /// <summary>The protocol agreed through ALPN (empty when none was).</summary>
    public SslApplicationProtocol NegotiatedApplicationProtocol => _open ? _ssl.NegotiatedApplicationProtocol : default;

    /// <summary>The TLS version in use.</summary>
    public SslProtocols TlsVersion => _open ? _ssl.SslProtocol : SslProtocols.None;

    /// <summary>The cipher suite in use.</summary>
    public TlsCipherSuite CipherSuite => _open ? _ssl.NegotiatedCipherSuite : default;

    /// <summary>On a server, the host name the client asked for (SNI; empty when none); on a client, the name it asked for.</summary>
    public string HostName => _ssl.TargetHostName;

    /// <summary>The peer's certificate: the server's on a client, the client's (when it sent one) on a server.</summary>
    public X509Certificate2? RemoteCertificate => _open ? _ssl.RemoteCertificate as X509Certificate2 : null;

    /// <summary>How long the handshake took.</summary>
    public TimeSpan HandshakeDuration { get; private set; }

    /// <summary>The transport the records travel on.</summary>
    public Transport Connection => _connection;

    /// <inheritdoc/>
    public override Protocol Protocol
    {
        get => _protocol;
        set => _protocol = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <inheritdoc/>
    public override bool IsClosing => _closing || _connection.IsClosing;

    /// <inheritdoc/>
    public override bool IsReading => !IsClosing && !_readPaused && !_eofDelivered;

    /// <inheritdoc/>
    public override int WriteBufferSize => _connection.WriteBufferSize;

    /// <inheritdoc/>
    public override int WriteBufferHighWaterMark => _connection.WriteBufferHighWaterMark;

    /// <inheritdoc/>
    public override int WriteBufferLowWaterMark => _connection.WriteBufferLowWaterMark;

    /// <inheritdoc/>
    public override void SetWriteBufferLimits(int high, int? low = null) => _connection.SetWriteBufferLimits(high, low);

    /// <inheritdoc/>
    public override EndPoint? LocalEndPoint => _connection.LocalEndPoint;

    /// <inheritdoc/>
    public override EndPoint? RemoteEndPoint => _connection.RemoteEndPoint;

    /// <inheritdoc/>
    public override NativeSocket? Socket => _connection.Socket;

    /// <summary>Encrypts <paramref name="data"/> and sends the records (buffered by the connection when it cannot take them yet).</summary>
    public override void Write(ReadOnlySpan<byte> data)
    {
        if (_eofSent)
        {
            throw new InvalidOperationException("Cannot Write after WriteEof.");
        }
        if (!_open)
        {
            throw new InvalidOperationException("The TLS handshake has not completed: write once ConnectionMade has been called.");
        }
        if (_closing || _lost || data.IsEmpty)
        {
            return; // as the TCP transport: writing to a closed connection is not the writer's error
        }
        bool cork = data.Length > PlaintextBufferSize;
        _writing++;
        try
        {
            if (cork)
            {
                _records.Cork();
            }
            _ssl.Write(data);
            if (cork)
            {
                _records.Uncork();
            }
        }
        catch (Exception e)
        {
            Fail(e);
        }
        finally
        {
            _writing--;
        }
        if (_writing == 0 && _pauseWritingDeferred)
        {
            _pauseWritingDeferred = false;
            CallPauseWriting();
        }
    }

    /// <summary>Sends close_notify (TLS's end of data), then closes the connection's write side; reading goes on.</summary>
    public override void WriteEof()
    {
        if (IsClosing || _eofSent || !_open)
        {
            return;
        }
        _eofSent = true;
        if (SendCloseNotify())
        {
            _connection.WriteEof();
        }
    }

    /// <summary>Sends close_notify (when the handshake is done), then closes the connection once what is buffered is sent.</summary>
    public override void Close()
    {
        if (_closing)
        {
            return;
        }
        _closing = true;
        if (_open && !_eofSent && !_lost)
        {
            _eofSent = true;
            SendCloseNotify();
        }
        _connection.Close();
    }

    /// <inheritdoc/>
    public override void Abort()
    {
        _closing = true;
        _connection.Abort();
    }

    /// <inheritdoc/>
    public override void PauseReading()
    {
        if (IsClosing || _readPaused)
        {
            return;
        }
        _readPaused = true;
        UpdateConnectionReading();
    }

    /// <inheritdoc/>
    public override void ResumeReading()
    {
        if (IsClosing || !_readPaused)
        {
            return;
        }
        _readPaused = false;
        UpdateConnectionReading();
        Pump();
    }

    /// <inheritdoc/>
    public override string ToString() => $"TlsTransport({_connection})";

    /// <summary>Completes when the handshake has succeeded (the protocol's ConnectionMade has run), or fails with why it did not.</summary>
    internal Task WaitConnectedAsync() => _connected?.Task ?? throw new InvalidOperationException("Only a client's TLS transport waits for its handshake.");

    private void StartHandshake(TlsServerOptions? server, TlsClientOptions? client, string? host)
    {
        _handshakeStarted = Stopwatch.GetTimestamp();
        if (client is not null)
        {
            _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        TimeSpan timeout = server?.HandshakeTimeout ?? client!.HandshakeTimeout;
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            _handshakeTimer = _loop.CallLater(timeout, static s => ((TlsTransport)s!).OnHandshakeTimeout(), this);
        }
        try
        {
            _handshake = server is not null
                ? _ssl.AuthenticateAsServerAsync(SelectServerOptions, server, CancellationToken.None)
                : _ssl.AuthenticateAsClientAsync(client!.CreateAuthenticationOptions(host!), CancellationToken.None);
        }
        catch (Exception e)
        {
            _handshake = Task.FromException(e);
        }
        if (_handshake.IsCompleted)
        {
            OnHandshakeDone();
        }
        else
        {
            _handshake.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(OnHandshakeReady);
        }
    }

    private static ValueTask<SslServerAuthenticationOptions> SelectServerOptions(
        SslStream stream, SslClientHelloInfo hello, object? state, CancellationToken cancellationToken) =>
        new(((TlsServerOptions)state!).CreateAuthenticationOptions(hello.ServerName));

    private void OnHandshakeTimeout()
    {
        _handshakeTimer = null;
        if (_open || _lost)
        {
            return;
        }
        _handshakeError = new TimeoutException("The TLS handshake did not complete in time.");
        _records.Fail(_handshakeError);
        _connection.Abort();
    }

    private void OnHandshakeDone()
    {
        _handshakeTimer?.Cancel();
        _handshakeTimer = null;
        HandshakeDuration = Stopwatch.GetElapsedTime(_handshakeStarted);
        if (_handshake!.Exception is { } failure)
        {
            _handshakeError ??= failure.InnerException ?? failure;
            if (_connected is null && TlsMetrics.HandshakeDuration.Enabled)
            {
                TlsMetrics.Record(HandshakeDuration, SslProtocols.None, _handshakeError);
            }
            if (!_lost)
            {
                _connection.Abort();
            }
            _connected?.TrySetException(_handshakeError);
            return;
        }
        if (_lost || _closing)
        {
            _connected?.TrySetException(_handshakeError ?? new IOException("The connection closed during the TLS handshake."));
            return;
        }
        _open = true;
        if (_connected is null && TlsMetrics.HandshakeDuration.Enabled) // a server's handshake (a client's has _connected)
        {
            TlsMetrics.Record(HandshakeDuration, _ssl.SslProtocol, error: null);
        }
        try
        {
            _protocol.ConnectionMade(this);
        }
        catch (Exception e)
        {
            _loop.CallExceptionHandler(new LoopExceptionContext("Fatal error: protocol.ConnectionMade() failed", e, source: this));
            _connected?.TrySetException(e);
            Fail(e, report: false);
            return;
        }
        _connected?.TrySetResult();
        Pump();
    }

    /// <summary>
    /// Delivers decrypted data while the protocol reads: a zero-byte read waits in SslStream until a record has
    /// been decrypted (holding no buffer), then the data is read into a pooled buffer and passed on. Runs from
    /// ConnectionMade, ResumeReading and each completed wait; re-entrant calls (a protocol that resumes reading
    /// inside DataReceived) fold into the running one.
    /// </summary>
    private void Pump()
    {
        if (_pumping)
        {
            return;
        }
        _pumping = true;
        try
        {
            while (true)
            {
                if (_readCompleted)
                {
                    _readCompleted = false;
                    ValueTask<int> done = _pendingRead;
                    _pendingRead = default;
                    done.GetAwaiter().GetResult(); // throws what failed the read
                    DeliverDecrypted();
                    continue;
                }
                if (_readPending || !_open || IsClosing || _readPaused || _eofDelivered)
                {
                    return;
                }
                ValueTask<int> wait = _ssl.ReadAsync(Memory<byte>.Empty);
                if (wait.IsCompleted)
                {
                    wait.GetAwaiter().GetResult();
                    DeliverDecrypted();
                    continue;
                }
                _pendingRead = wait;
                _readPending = true;
                wait.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onReadReady);
            }
        }
        catch (Exception e)
        {
            Fail(e);
        }
        finally
        {
            _pumping = false;
        }
    }

    // SslStream's continuations run inside a read the record stream completed with no synchronization context current
    // (NoSynchronizationContextScope). What these start — the protocol's ConnectionMade and DataReceived, a stream or
    // HTTP handler that awaits — must see the loop's context, or its continuations would run on the thread pool.
    private void OnHandshakeReady()
    {
        using var scope = new LoopSynchronizationContextScope(_loop);
        OnHandshakeDone();
    }

    private void OnReadReady()
    {
        using var scope = new LoopSynchronizationContextScope(_loop);
        _readPending = false;
        _readCompleted = true;
        if (_lost)
        {
            // Collect the failed read (SslStream's pooled state machine is given back), report nothing.
            _readCompleted = false;
            ValueTask<int> done = _pendingRead;
            _pendingRead = default;
            try
            {
                done.GetAwaiter().GetResult();
            }
            catch (Exception)
            {
                // The connection is gone; ConnectionLost says so.
            }
            return;
        }
        Pump();
    }

    /// <summary>After a zero-byte read completed: decrypted bytes are there (or the peer ended): pass them on.</summary>
    private void DeliverDecrypted()
    {
        if (IsClosing || _readPaused)
        {
            return; // the data stays decrypted in SslStream until reading resumes
        }
        byte[] buffer = ArrayPool<byte>.Shared.Rent(PlaintextBufferSize);
        try
        {
            ValueTask<int> read = _ssl.ReadAsync(buffer);
            if (!read.IsCompleted)
            {
                // Cannot happen: a completed zero-byte read means a decrypted record waits (or EOF). Should it, the
                // buffer would be held by the pending read: fail loudly rather than hand it back to the pool.
                buffer = null!;
                throw new InvalidOperationException("SslStream did not return decrypted data after its zero-byte read completed.");
            }
            int n = read.GetAwaiter().GetResult();
            if (n == 0)
            {
                OnEof();
                return;
            }
            try
            {
                _protocol.DataReceived(new ReadOnlySpan<byte>(buffer, 0, n));
            }
            catch (Exception e)
            {
                Fail(e, message: "Fatal error: protocol.DataReceived() failed");
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private void OnEof()
    {
        _eofDelivered = true;
        UpdateConnectionReading();
        bool keepOpen;
        try
        {
            keepOpen = _protocol.EofReceived();
        }
        catch (Exception e)
        {
            Fail(e, message: "Fatal error: protocol.EofReceived() failed");
            return;
        }
        if (!keepOpen)
        {
            Close();
        }
    }

    private bool SendCloseNotify()
    {
        try
        {
            Task shutdown = _ssl.ShutdownAsync(); // writes the alert through the record stream, synchronously
            if (shutdown.IsFaulted)
            {
                Fail(shutdown.Exception!.InnerException ?? shutdown.Exception);
                return false;
            }
            return true;
        }
        catch (Exception e)
        {
            Fail(e);
            return false;
        }
    }

    private void OnRecordsDrained()
    {
        if (_recordsFull)
        {
            _recordsFull = false;
            UpdateConnectionReading();
        }
    }

    /// <summary>The connection reads while the protocol reads and SslStream keeps up with the records.</summary>
    private void UpdateConnectionReading()
    {
        if (_lost)
        {
            return;
        }
        if (_readPaused || _recordsFull || _eofDelivered)
        {
            _connection.PauseReading();
        }
        else
        {
            _connection.ResumeReading();
        }
    }

    /// <summary>The one failure path after the handshake: report what is not network weather, then abort.</summary>
    private void Fail(Exception error, bool report = true, string message = "Fatal error on TLS transport")
    {
        if (_lost)
        {
            return;
        }
        // A peer that sends a bad record, resets or vanishes is network weather, not a bug worth a report.
        if (report && error is not (IOException or AuthenticationException or ObjectDisposedException))
        {
            _loop.CallExceptionHandler(new LoopExceptionContext(message, error, source: this));
        }
        _error ??= error;
        _closing = true;
        _connection.Abort();
    }

    private void CallPauseWriting()
    {
        if (!_open || _lost)
        {
            return;
        }
        try
        {
            _protocol.PauseWriting();
        }
        catch (Exception e)
        {
            _loop.CallExceptionHandler(new LoopExceptionContext("protocol.PauseWriting() failed", e, source: this));
        }
    }

    private void OnConnectionLost(Exception? error)
    {
        if (_lost)
        {
            return;
        }
        _lost = true;
        _closing = true;
        _handshakeTimer?.Cancel();
        _handshakeTimer = null;
        _records.Fail(new IOException("The connection was lost.", error));
        if (!_open)
        {
            _connected?.TrySetException(_handshakeError ?? new IOException("The connection closed during the TLS handshake.", error));
            _ssl.Dispose();
            return;
        }
        try
        {
            _protocol.ConnectionLost(_error ?? error);
        }
        catch (Exception e)
        {
            _loop.CallExceptionHandler(new LoopExceptionContext("protocol.ConnectionLost() failed", e, source: this));
        }
        finally
        {
            _error = null;
            if (!_readPending)
            {
                _ssl.Dispose(); // else disposed once the failed read is collected
            }
        }
    }

    /// <summary>
    /// The protocol of the connection under TLS: it receives records and the connection's events and hands them
    /// to its <see cref="TlsTransport"/>.
    /// </summary>
    internal sealed class RecordProtocol : Protocol
    {
        private readonly EventLoop _loop;
        private readonly Protocol _application;
        private readonly TlsServerOptions? _server;
        private readonly TlsClientOptions? _client;
        private readonly string? _host;
        private TlsTransport? _tls;

        public RecordProtocol(EventLoop loop, Protocol application, TlsServerOptions? server, TlsClientOptions? client, string? host)
        {
            _loop = loop;
            _application = application;
            _server = server;
            _client = client;
            _host = host;
        }

        /// <summary>The TLS transport, once the connection is made.</summary>
        public TlsTransport Transport => _tls ?? throw new InvalidOperationException("The connection is not made yet.");

        public override void ConnectionMade(Transport transport)
        {
            _tls = new TlsTransport(_loop, transport, _application);
            _tls.StartHandshake(_server, _client, _host);
        }

        public override void DataReceived(ReadOnlySpan<byte> data)
        {
            TlsTransport tls = _tls!;
            tls._records.Feed(data);
            if (!tls._recordsFull && tls._records.Buffered >= TlsRecordStream.HighWaterMark)
            {
                tls._recordsFull = true;
                tls.UpdateConnectionReading();
            }
        }

        public override bool EofReceived()
        {
            _tls!._records.FeedEof();
            return true; // the TLS transport decides: it closes once the protocol has heard of the end
        }

        public override void ConnectionLost(Exception? error) => _tls?.OnConnectionLost(error);

        public override void PauseWriting()
        {
            TlsTransport tls = _tls!;
            if (tls._writing > 0)
            {
                tls._pauseWritingDeferred = true;
            }
            else
            {
                tls.CallPauseWriting();
            }
        }

        public override void ResumeWriting()
        {
            TlsTransport tls = _tls!;
            if (tls._pauseWritingDeferred)
            {
                tls._pauseWritingDeferred = false;
                return;
            }
            if (!tls._open || tls._lost)
            {
                return;
            }
            try
            {
                tls._protocol.ResumeWriting();
            }
            catch (Exception e)
            {
                _loop.CallExceptionHandler(new LoopExceptionContext("protocol.ResumeWriting() failed", e, source: tls));
            }
        }

        public override void ShutdownRequested(Transport transport)
        {
            TlsTransport tls = _tls!;
            if (tls._open)
            {
                tls._protocol.ShutdownRequested(tls);
            }
            else
            {
                transport.Abort(); // mid-handshake: nothing of the application's is in flight
            }
        }
    }
}
