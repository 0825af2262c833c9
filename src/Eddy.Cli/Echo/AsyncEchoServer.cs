using System.Net;
using Eddy.Interop;
using Eddy.Loop;
using Eddy.Sockets;

namespace Eddy.Cli.Echo;

/// <summary>
/// Step 4: the callbacks of step 3 become straight-line <c>async</c> code. Each <c>await</c> on a loop
/// awaitable (<see cref="EventLoop.SockRecvAsync"/>, …) tries the syscall, and only when it would block
/// registers interest and returns to the loop; the loop resumes the method, on the loop thread, when the
/// socket is ready. One coroutine per client, as in asyncio, and no thread-pool hop anywhere.
///
/// Run: <c>eddy echo --impl async</c>.
/// </summary>
internal sealed class AsyncEchoServer : IEchoServer
{
    private readonly EventLoop _loop = new(new EventLoopOptions { Name = "echo-async" });
    private readonly NativeSocket _listener;
    private readonly EchoOptions _options;
    private readonly HashSet<NativeSocket> _clients = [];
    private readonly CancellationTokenSource _stopping = new();

    public AsyncEchoServer(IPEndPoint endPoint, EchoOptions options)
    {
        _options = options;
        try
        {
            _listener = NativeSocket.CreateListener(endPoint, options.Backlog);
        }
        catch
        {
            _loop.Dispose();
            throw;
        }
        LocalEndPoint = (IPEndPoint)_listener.LocalEndPoint!;
    }

    public IPEndPoint LocalEndPoint { get; }

    public void Serve()
    {
        _loop.Run(AcceptClientsAsync);
        foreach (NativeSocket client in _clients.ToArray())
        {
            client.Dispose(); // fails the client's pending await: its coroutine ends, inline, right here
        }
        _listener.Dispose();
        _loop.Close();
    }

    public void Stop() => _stopping.Cancel(); // cancels the pending accept, on the loop

    public void Dispose() => Stop();

    private async Task AcceptClientsAsync()
    {
        bool reportedFdExhaustion = false;
        while (!_stopping.IsCancellationRequested)
        {
            NativeSocket client;
            try
            {
                client = await _loop.SockAcceptAsync(_listener, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (PosixException e) when (e.Errno is Errno.EMFILE or Errno.ENFILE)
            {
                // Out of descriptors: back off instead of spinning, and try again when clients may have left.
                if (!reportedFdExhaustion)
                {
                    Console.Error.WriteLine($"eddy echo: {e.Message}; pausing accepts for 100 ms at a time");
                    reportedFdExhaustion = true;
                }
                await _loop.Delay(TimeSpan.FromMilliseconds(100));
                continue;
            }
            client.TrySetNoDelay();
            _clients.Add(client);
            _ = EchoAsync(client); // runs on the loop; never throws (see below)
        }
    }

    private async Task EchoAsync(NativeSocket client)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            if (_options.Verbose)
            {
                _options.Output.WriteLine($"Accepted {client.RemoteEndPoint}");
            }
            while (true)
            {
                int n = await _loop.SockRecvAsync(client, buffer);
                if (n == 0)
                {
                    break; // the client closed its side
                }
                if (_options.Verbose)
                {
                    _options.Output.WriteLine($"Echoing {n} bytes to {client.RemoteEndPoint}");
                }
                await _loop.SockSendAllAsync(client, buffer.AsMemory(0, n)); // waits while the socket buffer is full
            }
        }
        catch (Exception e) when (e is PosixException or ObjectDisposedException)
        {
            // A reset, a broken pipe or shutdown ends this client only.
            if (_options.Verbose)
            {
                _options.Output.WriteLine($"Client error: {e.Message}");
            }
        }
        finally
        {
            _clients.Remove(client);
            client.Dispose();
        }
    }
}
