using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Eddy.Interop;
using Eddy.Loop;
using Eddy.Sockets;
using Eddy.Transports;
using Eddy.Transports.Internal;

namespace Eddy.FunctionalTests.Transports;

/// <summary>Every wait in a test is bounded, so a bug fails the test instead of hanging the run.</summary>
internal static class TestTimeouts
{
    /// <summary>Long enough never to trip on a loaded machine; only a bug reaches it.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>How long a test watches for something that must not happen (a callback, a completion).</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);
}

/// <summary>
/// One event loop running on its own thread (a <see cref="LoopGroup"/> of one) for the length of a test.
/// The loop's exception handler records what it is given: <see cref="AssertNoLoopErrors"/> fails the test
/// if user code (or a transport) reported anything.
/// </summary>
internal sealed class LoopThread : IDisposable
{
    private readonly LoopGroup _group = new(1, _ => new EventLoopOptions { Name = "test-loop" });
    private readonly ConcurrentQueue<LoopExceptionContext> _errors = new();

    public LoopThread()
    {
        Loop.ExceptionHandler = (_, context) => _errors.Enqueue(context);
        _group.Start();
        ThreadId = Invoke(() => Environment.CurrentManagedThreadId).GetAwaiter().GetResult();
    }

    public EventLoop Loop => _group.Loops[0];

    /// <summary>The managed id of the loop's thread.</summary>
    public int ThreadId { get; }

    /// <summary>Runs <paramref name="action"/> on the loop thread and returns its result.</summary>
    public Task<T> Invoke<T>(Func<T> action) => LoopGroup.InvokeAsync(Loop, action).WaitAsync(TestTimeouts.Wait);

    public Task Invoke(Action action) => Invoke(() =>
    {
        action();
        return true;
    });

    /// <summary>A few round trips through the loop: whatever was ready when this was called has been handled by the time it returns.</summary>
    public async Task SettleAsync()
    {
        for (int i = 0; i < 3; i++)
        {
            await Invoke(() => { });
        }
    }

    /// <summary>
    /// Waits (bounded) for a task that completes on the loop thread, e.g. <see cref="Server.WaitClosedAsync"/>,
    /// without letting the test's continuation run inline on the loop.
    /// </summary>
    public static Task WhenDone(Task loopTask) =>
        loopTask.ContinueWith(t => t, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap().WaitAsync(TestTimeouts.Wait);

    /// <summary>What the loop's exception handler was given so far.</summary>
    public LoopExceptionContext[] Errors => _errors.ToArray();

    public void AssertNoLoopErrors() =>
        Assert.True(_errors.IsEmpty, "the loop's exception handler was called: " + string.Join(" | ", _errors.Select(e => e.ToString())));

    public void Dispose()
    {
        // Bounded: a test that wedged the loop must fail, not hang the run.
        if (!Task.Run(_group.Dispose).Wait(TestTimeouts.Wait))
        {
            throw new TimeoutException("the test loop did not stop");
        }
    }
}

/// <summary>
/// A protocol that writes down every call, in order, with the thread it ran on, and flags any call that
/// breaks the documented order (<c>ConnectionMade [DataReceived*] [EofReceived?] ConnectionLost</c>).
/// </summary>
internal class RecordingProtocol : Protocol
{
    private readonly object _lock = new();
    private readonly List<string> _events = [];
    private readonly MemoryStream _received = new();
    private readonly List<int> _threads = [];
    private readonly List<string> _violations = [];
    private readonly List<(long Count, TaskCompletionSource Done)> _receivedWaiters = [];

    public Transport Transport { get; private set; } = null!;

    public TaskCompletionSource Made { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource FirstData { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Eof { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<Exception?> Lost { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string[] Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    public int[] Threads
    {
        get
        {
            lock (_lock)
            {
                return [.. _threads];
            }
        }
    }

    public string[] Violations
    {
        get
        {
            lock (_lock)
            {
                return [.. _violations];
            }
        }
    }

    public byte[] Received
    {
        get
        {
            lock (_lock)
            {
                return _received.ToArray();
            }
        }
    }

    public long ReceivedCount
    {
        get
        {
            lock (_lock)
            {
                return _received.Length;
            }
        }
    }

    /// <summary>Completes once DataReceived has delivered at least <paramref name="count"/> bytes in all (and returned).</summary>
    public Task WhenReceived(long count)
    {
        lock (_lock)
        {
            if (_received.Length >= count)
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _receivedWaiters.Add((count, done));
            return done.Task;
        }
    }

    public override void ConnectionMade(Transport transport)
    {
        Record("made", e => e.Count == 0);
        Transport = transport;
        OnConnectionMade(transport);
        Made.TrySetResult();
    }

    public override void DataReceived(ReadOnlySpan<byte> data)
    {
        Record("data", e => e.Count > 0 && !e.Contains("eof") && !e.Contains("lost"));
        lock (_lock)
        {
            _received.Write(data);
        }
        OnDataReceived(data);
        FirstData.TrySetResult();
        lock (_lock)
        {
            _receivedWaiters.RemoveAll(w => w.Count <= _received.Length && w.Done.TrySetResult());
        }
    }

    public override bool EofReceived()
    {
        Record("eof", e => e.Count > 0 && !e.Contains("eof") && !e.Contains("lost"));
        bool keepOpen = OnEofReceived();
        Eof.TrySetResult();
        return keepOpen;
    }

    public override void ConnectionLost(Exception? error)
    {
        Record("lost", e => e.Count > 0 && !e.Contains("lost"));
        OnConnectionLost(error);
        Lost.TrySetResult(error);
    }

    // Pause and resume alternate, starting with a pause, between ConnectionMade and ConnectionLost.
    public override void PauseWriting() => Record("pause", e => e.Count > 0 && !e.Contains("lost") && LastFlowEvent(e) != "pause");

    public override void ResumeWriting() => Record("resume", e => e.Count > 0 && !e.Contains("lost") && LastFlowEvent(e) == "pause");

    protected virtual void OnConnectionMade(Transport transport)
    {
    }

    protected virtual void OnDataReceived(ReadOnlySpan<byte> data)
    {
    }

    /// <summary>What <see cref="EofReceived"/> returns: true keeps the connection half-open.</summary>
    protected virtual bool OnEofReceived() => false;

    protected virtual void OnConnectionLost(Exception? error)
    {
    }

    private static string? LastFlowEvent(List<string> events) => events.LastOrDefault(e => e is "pause" or "resume");

    private void Record(string name, Func<List<string>, bool> allowed)
    {
        lock (_lock)
        {
            if (!allowed(_events))
            {
                _violations.Add($"{name} after [{string.Join(", ", _events)}]");
            }
            if (EventLoop.Current is null)
            {
                _violations.Add($"{name} ran off the loop");
            }
            _events.Add(name);
            _threads.Add(Environment.CurrentManagedThreadId);
        }
    }
}

/// <summary>
/// Echoes what it receives. Flow control as a proxy does it: when the peer does not read its echo fast
/// enough (the write buffer passes its high-water mark), stop reading the peer until the buffer drains.
/// Closes (after flushing) at the peer's EOF.
/// </summary>
internal sealed class EchoProtocol(int? sendBufferSize = null) : RecordingProtocol
{
    /// <summary>A small SO_SNDBUF (no autotuning) makes the kernel refuse writes early, so the transport's own buffer and flow control get used.</summary>
    protected override void OnConnectionMade(Transport transport)
    {
        if (sendBufferSize is int size)
        {
            ((SocketTransport)transport).Socket.SendBufferSize = size;
        }
    }

    protected override void OnDataReceived(ReadOnlySpan<byte> data) => Transport.Write(data);

    public override void PauseWriting()
    {
        base.PauseWriting();
        Transport.PauseReading();
    }

    public override void ResumeWriting()
    {
        base.ResumeWriting();
        Transport.ResumeReading();
    }
}

/// <summary>Blocking-free client helpers over System.Net.Sockets, every operation bounded.</summary>
internal static class Client
{
    public static async Task<Socket> ConnectAsync(EndPoint endPoint, int? receiveBufferSize = null)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, endPoint.AddressFamily == AddressFamily.Unix ? ProtocolType.Unspecified : ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily != AddressFamily.Unix)
            {
                socket.NoDelay = true;
            }
            if (receiveBufferSize is int size)
            {
                socket.ReceiveBufferSize = size; // before connect, so the window is small from the start (no autotuning)
            }
            using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
            await socket.ConnectAsync(endPoint, timeout.Token);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
        while (!data.IsEmpty)
        {
            int n = await socket.SendAsync(data, SocketFlags.None, timeout.Token);
            data = data[n..];
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes; fails on an early EOF or the timeout.</summary>
    public static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count, TimeSpan? timeout = null)
    {
        byte[] buffer = new byte[count];
        using var cts = new CancellationTokenSource(timeout ?? TestTimeouts.Wait);
        int read = 0;
        while (read < count)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cts.Token);
            Assert.True(n > 0, $"EOF after {read} of {count} bytes");
            read += n;
        }
        return buffer;
    }

    /// <summary>Reads until EOF. A reset ends the stream too when <paramref name="resetIsEnd"/> (then <c>Reset</c> is true).</summary>
    public static async Task<(byte[] Data, bool Reset)> ReceiveToEndAsync(Socket socket, bool resetIsEnd = false)
    {
        var data = new MemoryStream();
        byte[] buffer = new byte[64 * 1024];
        using var cts = new CancellationTokenSource(TestTimeouts.Wait);
        while (true)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            }
            catch (SocketException e) when (resetIsEnd && e.SocketErrorCode == SocketError.ConnectionReset)
            {
                return (data.ToArray(), true);
            }
            if (n == 0)
            {
                return (data.ToArray(), false);
            }
            data.Write(buffer, 0, n);
        }
    }

    /// <summary>Sends one byte and waits for it to come back.</summary>
    public static async Task<bool> EchoesAsync(Socket socket, byte value, TimeSpan timeout)
    {
        await SendAllAsync(socket, new[] { value });
        byte[] buffer = new byte[1];
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            return n == 1 && buffer[0] == value;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Closes with a RST instead of a FIN (SO_LINGER with a zero timeout).</summary>
    public static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Dispose();
    }
}

/// <summary>
/// What the kernel holds for one of the loop's sockets, looked at through a <see cref="Socket"/> that does not own
/// the descriptor (so disposing it leaves the socket alone). Call on the loop thread: the descriptor is the loop's.
/// </summary>
internal static class KernelSocket
{
    private const int IpProtoTcp = 6;
    private const int TcpInfo = 11;
    private const int TcpInfoBytesReceived = 128; // offset of tcpi_bytes_received (u64) in struct tcp_info (Linux 4.1+)

    /// <summary>Bytes that arrived and are not read yet (FIONREAD).</summary>
    public static int UnreadBytes(NativeSocket socket) => UnreadBytes(socket.Fd);

    public static int UnreadBytes(int fd)
    {
        using Socket view = View(fd);
        return view.Available;
    }

    /// <summary>Bytes a TCP socket has received from its peer since it connected, read or not (tcpi_bytes_received).</summary>
    public static long ReceivedBytes(int fd)
    {
        using Socket view = View(fd);
        Span<byte> info = stackalloc byte[256];
        int length = view.GetRawSocketOption(IpProtoTcp, TcpInfo, info);
        Assert.True(length >= TcpInfoBytesReceived + 8, $"tcp_info of {length} bytes has no tcpi_bytes_received");
        return BinaryPrimitives.ReadInt64LittleEndian(info[TcpInfoBytesReceived..]);
    }

    /// <summary>
    /// Waits (bounded) until <paramref name="loop"/> has read every one of the <paramref name="sent"/> bytes
    /// <paramref name="client"/> sent: the server's side of the connection (the process's socket whose peer is the
    /// client) received them all and holds none unread. Asked on the loop's thread, so its descriptors stay put.
    /// </summary>
    public static Task WaitUntilServerReadAsync(EventLoop loop, Socket client, long sent)
    {
        EndPoint clientEnd = client.LocalEndPoint!;
        return TestData.WaitUntilAsync(() => LoopGroup.InvokeAsync(loop, () =>
            SocketDescriptors().Any(fd => Equals(Libc.GetEndPoint(fd, peer: true), clientEnd) && ReceivedBytes(fd) == sent && UnreadBytes(fd) == 0)),
            $"the server read the {sent} bytes sent");
    }

    /// <summary>
    /// The process's socket descriptors (from /proc/self/fd): on io_uring a connection is not registered with the
    /// selector (it reads with a ring request), so the selector's keys do not list it.
    /// </summary>
    private static IEnumerable<int> SocketDescriptors()
    {
        foreach (string path in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (int.TryParse(Path.GetFileName(path), out int fd) && new FileInfo(path).LinkTarget is { } target && target.StartsWith("socket:", StringComparison.Ordinal))
            {
                yield return fd;
            }
        }
    }


    private static Socket View(int fd) => new(new SafeSocketHandle(fd, ownsHandle: false));
}

internal static class TestData
{
    /// <summary>Reproducible pseudo-random bytes.</summary>
    public static byte[] Bytes(int count, int seed)
    {
        byte[] data = new byte[count];
        new Random(seed).NextBytes(data);
        return data;
    }

    public static string Hash(ReadOnlySpan<byte> data) => Convert.ToHexString(SHA256.HashData(data));

    /// <summary>
    /// The most one TCP socket's receive (<c>tcp_rmem</c>) or send (<c>tcp_wmem</c>) buffer can grow to: the sysctl's
    /// third field, in bytes. A test that needs bytes to stay in a transport writes more than the kernel can take.
    /// </summary>
    public static long KernelBufferMax(string sysctl) =>
        long.Parse(File.ReadAllText($"/proc/sys/net/ipv4/{sysctl}").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[2]);

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds, checking it every few milliseconds.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Wait;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }
}
