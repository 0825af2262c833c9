using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Eddy.FunctionalTests.Cli;

/// <summary>A request body as <see cref="RawHttpServer"/> received it: its length and SHA-256 (lowercase hex).</summary>
internal readonly record struct ReceivedBody(long Length, string Sha256);

/// <summary>How <see cref="RawHttpServer"/> answers.</summary>
internal enum RawHttpBehavior
{
    /// <summary>200 with Content-Length.</summary>
    ContentLength,

    /// <summary>200 with Transfer-Encoding: chunked, the body in three chunks, and a trailer.</summary>
    Chunked,

    /// <summary>200 with Connection: close, then closes: one request per connection.</summary>
    CloseAfterResponse,

    /// <summary>Reads the request, then closes without answering.</summary>
    CloseWithoutAnswer,

    /// <summary>Reads requests and never answers.</summary>
    NeverAnswer,
}

/// <summary>
/// A tiny HTTP/1.1 responder on plain blocking sockets, one thread per connection, that counts what it
/// receives: requests (heads, plus any Content-Length body), connections, and the most requests that
/// arrived in one read (pipelining); with <see cref="RecordBodies"/>, each body's length and SHA-256. Bodies
/// are read as they stream in, never kept. Not Eddy's server on purpose: it checks the load generator against
/// an independent reading of the bytes. Binds 127.0.0.1:0; every read has a timeout.
/// </summary>
internal sealed class RawHttpServer : IDisposable
{
    private static readonly byte[] Body = "hello, load"u8.ToArray();

    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly RawHttpBehavior _behavior;
    private readonly int _maxConnections;
    private readonly Thread _acceptor;
    private readonly List<Socket> _clients = [];
    private readonly ConcurrentQueue<ReceivedBody> _bodies = new();
    private long _requests;
    private int _connections;
    private int _maxPerRead;
    private volatile bool _isDisposed;

    /// <param name="maxConnections">After accepting this many connections the listener closes: later connects are refused.</param>
    public RawHttpServer(RawHttpBehavior behavior = RawHttpBehavior.ContentLength, int maxConnections = int.MaxValue)
    {
        _behavior = behavior;
        _maxConnections = maxConnections;
        // SO_REUSEADDR here too: the TIME_WAITs of the connections it closes then let the port be bound again (see StopListeningButKeepThePort).
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptor = new Thread(Accept) { IsBackground = true, Name = "raw-http-accept" };
        _acceptor.Start();
    }

    public IPEndPoint EndPoint { get; }

    public string Url(string path = "/") => $"http://{EndPoint}{path}";

    /// <summary>The request with this 1-based number (counted over all connections) is answered only after <see cref="StallFor"/>.</summary>
    public long StallAtRequest { get; init; } = -1;

    public TimeSpan StallFor { get; init; }

    /// <summary>After each read (of up to 64 KiB), wait this long: a slow reader, whose client must wait for room to send.</summary>
    public TimeSpan ReadPause { get; init; }

    /// <summary>Record every request body's length and SHA-256 in <see cref="Bodies"/>.</summary>
    public bool RecordBodies { get; init; }

    /// <summary>With <see cref="RecordBodies"/>: each complete request's body, in the order they completed.</summary>
    public IReadOnlyCollection<ReceivedBody> Bodies => _bodies;

    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Completes once <paramref name="count"/> requests have arrived (counted over all connections).</summary>
    public Task WhenRequests(long count)
    {
        lock (_requestWaiters)
        {
            if (Requests >= count)
            {
                return Task.CompletedTask;
            }
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _requestWaiters.Add((count, reached));
            return reached.Task;
        }
    }

    private readonly List<(long Count, TaskCompletionSource Reached)> _requestWaiters = [];

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>The most complete requests found in one read.</summary>
    public int MaxRequestsPerRead => Volatile.Read(ref _maxPerRead);

    private void Accept()
    {
        try
        {
            while (!_isDisposed)
            {
                Socket client = _listener.Accept();
                lock (_clients)
                {
                    _clients.Add(client);
                }
                if (Interlocked.Increment(ref _connections) >= _maxConnections)
                {
                    StopListeningButKeepThePort();
                }
                new Thread(() => Serve(client)) { IsBackground = true, Name = "raw-http-conn" }.Start();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closed: by Dispose, or after maxConnections.
        }
    }

    /// <summary>
    /// Closes the listener, so later connects are refused, and binds the port again without listening so it stays
    /// reserved: a load run that goes on connecting must not reach a server another test is given this port for
    /// (that test would see stray connections).
    /// </summary>
    private void StopListeningButKeepThePort()
    {
        _listener.Close();
        var reserve = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            reserve.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true); // past our own TIME_WAITs
            reserve.Bind(EndPoint);
            _reserve = reserve;
            _reservedAfterClosing = true;
        }
        catch (SocketException)
        {
            reserve.Dispose(); // taken in the instant between: refusals are then up to whoever has it
        }
    }

    private volatile Socket? _reserve;

    /// <summary>True once the listener closed after <c>maxConnections</c> and the port was bound again to keep it.</summary>
    public bool ReservedAfterClosing => _reservedAfterClosing;

    private volatile bool _reservedAfterClosing;

    private void Serve(Socket client)
    {
        var buffer = new byte[64 * 1024];
        var head = new MemoryStream(); // the head being gathered, up to its CRLF CRLF
        long bodyLeft = -1;            // bytes of the current request's body still to come; -1 while in its head
        long bodyLength = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        client.ReceiveTimeout = 30_000;
        client.NoDelay = true; // as real servers: with Nagle, a second answer can wait for the client's delayed ACK of the first (40 ms)
        try
        {
            int n;
            while ((n = client.Receive(buffer)) > 0)
            {
                ReadOnlySpan<byte> data = buffer.AsSpan(0, n);
                int complete = 0;
                var output = new MemoryStream();
                while (!data.IsEmpty)
                {
                    if (bodyLeft < 0)
                    {
                        int searchFrom = (int)Math.Max(0, head.Length - 3);
                        int kept = (int)head.Length;
                        head.Write(data);
                        int end = head.GetBuffer().AsSpan(searchFrom, (int)head.Length - searchFrom).IndexOf("\r\n\r\n"u8);
                        if (end < 0)
                        {
                            break;
                        }
                        int headLength = searchFrom + end + 4;
                        data = data[(headLength - kept)..];
                        bodyLength = bodyLeft = ContentLength(Encoding.ASCII.GetString(head.GetBuffer(), 0, headLength));
                        head.SetLength(0);
                    }
                    int take = (int)Math.Min(bodyLeft, data.Length);
                    if (RecordBodies)
                    {
                        hash.AppendData(data[..take]);
                    }
                    data = data[take..];
                    bodyLeft -= take;
                    if (bodyLeft > 0)
                    {
                        break;
                    }
                    bodyLeft = -1;
                    complete++;
                    if (RecordBodies)
                    {
                        _bodies.Enqueue(new ReceivedBody(bodyLength, Convert.ToHexStringLower(hash.GetHashAndReset())));
                    }
                    if (!Answer(client, output))
                    {
                        return;
                    }
                }
                InterlockedMax(ref _maxPerRead, complete);
                if (output.Length > 0)
                {
                    client.Send(output.GetBuffer().AsSpan(0, (int)output.Length));
                }
                if (ReadPause > TimeSpan.Zero)
                {
                    Thread.Sleep(ReadPause);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The client left, or we are disposed.
        }
        finally
        {
            client.Dispose();
        }
    }

    /// <summary>Counts a complete request and answers it as <see cref="_behavior"/> says (into <paramref name="output"/>, or at once); false: stop serving this connection.</summary>
    private bool Answer(Socket client, MemoryStream output)
    {
        long number = Interlocked.Increment(ref _requests);
        lock (_requestWaiters)
        {
            _requestWaiters.RemoveAll(w => w.Count <= number && w.Reached.TrySetResult());
        }
        if (number == StallAtRequest)
        {
            Thread.Sleep(StallFor);
        }
        switch (_behavior)
        {
            case RawHttpBehavior.CloseWithoutAnswer:
                return false;
            case RawHttpBehavior.NeverAnswer:
                return true;
            case RawHttpBehavior.CloseAfterResponse:
                client.Send(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {Body.Length}\r\nConnection: close\r\n\r\n").Concat(Body).ToArray());
                client.Shutdown(SocketShutdown.Both);
                return false;
            case RawHttpBehavior.Chunked:
                output.Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n2\r\n, \r\n4;ext=1\r\nload\r\n0\r\nX-Trailer: yes\r\n\r\n"u8);
                return true;
            default:
                output.Write(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {Body.Length}\r\n\r\n"));
                output.Write(Body);
                return true;
        }
    }

    /// <summary>The Content-Length of a request head (0 without one).</summary>
    private static long ContentLength(string head)
    {
        foreach (string line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return long.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    public void Dispose()
    {
        _isDisposed = true;
        _listener.Dispose();
        _reserve?.Dispose();
        lock (_clients)
        {
            foreach (Socket client in _clients)
            {
                client.Dispose();
            }
        }
        _acceptor.Join(TimeSpan.FromSeconds(5));
    }
}
