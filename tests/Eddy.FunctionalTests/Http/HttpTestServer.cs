using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Eddy.Http;
using Eddy.Loop;
using Eddy.Tls;
using Eddy.Transports;
using Eddy.Web;

namespace Eddy.FunctionalTests.Http;

/// <summary>A <see cref="WebApp"/> served on one loop of its own, on 127.0.0.1:0, for one test.</summary>
internal sealed class HttpTestServer : IDisposable
{
    private readonly LoopGroup _loops = new(1);
    private readonly GroupServer _server;

    public HttpTestServer(WebApp app, HttpServerOptions? options = null, TlsServerOptions? tls = null)
    {
        _loops.Loops[0].ExceptionHandler = (_, context) => Errors.Enqueue(context);
        _loops.Start();
        var any = new IPEndPoint(IPAddress.Loopback, 0);
        _server = (tls is null ? app.ListenAsync(_loops, any, options) : app.ListenAsync(_loops, any, tls, options))
            .WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        EndPoint = (IPEndPoint)_server.EndPoint;
        Scheme = tls is null ? "http" : "https";
    }

    /// <summary><c>http</c>, or <c>https</c> for a server made with TLS options.</summary>
    public string Scheme { get; }

    public IPEndPoint EndPoint { get; }

    /// <summary>The server, for its counters and shutdown.</summary>
    public GroupServer Server => _server;

    /// <summary>Waits until the server has exactly <paramref name="count"/> live connections; fails after the timeout.</summary>
    public async Task WaitForConnectionCountAsync(int count, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        int now;
        while ((now = await _server.GetConnectionCountAsync()) != count)
        {
            if (deadline.IsCancellationRequested)
            {
                Assert.Fail($"the server has {now} connections, not {count}");
            }
            await Task.Delay(20);
        }
    }

    /// <summary>One request on a new connection: the server still answers, promptly.</summary>
    public async Task AssertServesPlaintextAsync() =>
        Assert.EndsWith("Hello, World!", await RawAsync("GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));

    /// <summary>The one loop serving the app.</summary>
    public EventLoop Loop => _loops.Loops[0];

    public Uri Url(string path) => new($"{Scheme}://{EndPoint}{path}");

    /// <summary>What reached the loop's exception handler (handler exceptions are logged there).</summary>
    public ConcurrentQueue<LoopExceptionContext> Errors { get; } = new();

    public void Dispose()
    {
        // Bounded, and loud: a server that does not stop is a bug the test should report, not hide.
        Assert.True(_server.CloseAsync().Wait(TimeSpan.FromSeconds(10)), "the server's listeners did not close within 10 s");
        Assert.True(_server.AbortClientsAsync().Wait(TimeSpan.FromSeconds(10)), "the server's connections were not aborted within 10 s");
        _loops.Dispose();
    }

    /// <summary>Sends raw bytes on a new connection and reads until the server closes it; fails if it does not within the timeout.</summary>
    public async Task<string> RawAsync(string request, bool halfClose = false, int timeoutMs = 5000)
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Encoding.Latin1.GetBytes(request));
        if (halfClose)
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        return await ReadUntilClosedAsync(socket, TimeSpan.FromMilliseconds(timeoutMs));
    }

    public async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(EndPoint);
        return socket;
    }

    public static async Task<string> ReadToEndAsync(Socket socket, int timeoutMs = 5000) =>
        Encoding.Latin1.GetString((await ReadAsync(socket, timeoutMs)).Bytes);

    public static async Task<byte[]> ReadBytesToEndAsync(Socket socket, int timeoutMs = 5000) => (await ReadAsync(socket, timeoutMs)).Bytes;

    /// <summary>Reads until the server closes the connection; fails if it is still open after <paramref name="timeout"/>.</summary>
    public static async Task<string> ReadUntilClosedAsync(Socket socket, TimeSpan timeout)
    {
        (byte[] bytes, bool closed) = await ReadAsync(socket, (int)timeout.TotalMilliseconds);
        string text = Encoding.Latin1.GetString(bytes);
        Assert.True(closed, $"the server left the connection open for {timeout.TotalSeconds} s; it sent: {text.Split('\r')[0]}");
        return text;
    }

    /// <summary>A keep-alive GET /plaintext on <paramref name="socket"/>: true when the answer came.</summary>
    public static async Task<bool> PlaintextOnAsync(Socket socket, TimeSpan timeout)
    {
        var received = new StringBuilder();
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await socket.SendAsync("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), SocketFlags.None, cts.Token);
            while (!received.ToString().EndsWith("Hello, World!", StringComparison.Ordinal))
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (n == 0)
                {
                    return false;
                }
                received.Append(Encoding.Latin1.GetString(buffer, 0, n));
            }
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            return false;
        }
    }

    private static async Task<(byte[] Bytes, bool Closed)> ReadAsync(Socket socket, int timeoutMs)
    {
        bool closed = true;
        var received = new MemoryStream();
        var buffer = new byte[65536];
        using var timeout = new CancellationTokenSource(timeoutMs);
        try
        {
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, n);
            }
        }
        catch (OperationCanceledException)
        {
            // The connection stayed open: return what came.
            closed = false;
        }
        catch (SocketException)
        {
            // Reset after the response: return what came.
        }
        return (received.ToArray(), closed);
    }
}
