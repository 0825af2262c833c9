using System.Net;
using Eddy.Loop;
using Eddy.Sockets;

namespace Eddy.Cli.Echo;

/// <summary>
/// Step 4: the callbacks of step 3 become straight-line <c>async</c> code. Each <c>await</c> on a loop
/// awaitable (<see cref="EventLoop.SockRecvAsync"/>, …) tries the syscall, and only when it would block
/// registers interest and returns to the loop; the loop resumes the method, on the loop thread, when the
/// socket is ready. One coroutine per client, as in asyncio, and no thread-pool hop anywhere.
///
/// One loop per core (<c>--loops</c>): each loop accepts on its own SO_REUSEPORT listener and keeps
/// the clients it accepted, so the loops share nothing.
///
/// Run: <c>eddy echo --impl async [--loops N]</c>.
/// </summary>
internal sealed class AsyncEchoServer : IEchoServer
{
    private readonly LoopGroup _group;
    private readonly EchoLoop[] _echoLoops;
    private readonly CancellationTokenSource _stopping = new();

    public AsyncEchoServer(IPEndPoint endPoint, EchoOptions options)
    {
        _group = new LoopGroup(options.Loops, i => new EventLoopOptions { Name = $"echo-async-{i}" });
        _echoLoops = new EchoLoop[_group.Count];
        try
        {
            for (int i = 0; i < _group.Count; i++)
            {
                var listener = NativeSocket.CreateListener(endPoint, options.Backlog, reusePort: _group.Count > 1);
                _echoLoops[i] = new EchoLoop(_group.Loops[i], listener, options, _stopping.Token);
                endPoint = (IPEndPoint)listener.LocalEndPoint!; // port 0 resolved: the other loops join it
            }
        }
        catch
        {
            Array.ForEach(_echoLoops, e => e?.Listener.Dispose());
            _group.Dispose();
            throw;
        }
        LocalEndPoint = endPoint;
    }

    public IPEndPoint LocalEndPoint { get; }

    public void Serve()
    {
        _group.Start();
        Task[] accepting = _echoLoops.Select(e => LoopGroup.InvokeAsync(e.Loop, e.AcceptClientsAsync)).ToArray();
        Task.WaitAll(accepting); // until Stop cancels the accepts
        Task.WaitAll(_echoLoops.Select(e => LoopGroup.InvokeAsync(e.Loop, e.CloseAll)).ToArray());
        _group.Dispose();
    }

    public void Stop() => _stopping.Cancel(); // each loop's pending accept is cancelled on that loop

    public void Dispose() => Stop();

    /// <summary>The server's part on one loop: a listener and the clients it accepted. Loop thread only.</summary>
    private sealed class EchoLoop(EventLoop loop, NativeSocket listener, EchoOptions options, CancellationToken stopping)
    {
        private readonly HashSet<NativeSocket> _clients = [];

        public EventLoop Loop => loop;

        public NativeSocket Listener => listener;

        public async Task<bool> AcceptClientsAsync()
        {
            bool reportedFdExhaustion = false;
            while (!stopping.IsCancellationRequested)
            {
                NativeSocket client;
                try
                {
                    client = await loop.SockAcceptAsync(listener, stopping);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (PosixException e) when (e.Errno is Errno.EMFILE or Errno.ENFILE)
                {
                    // Out of descriptors: back off instead of spinning, and try again when clients may have left.
                    if (!reportedFdExhaustion)
                    {
                        Console.Error.WriteLine($"eddy echo: {e.Message}; pausing accepts for 100 ms at a time");
                        reportedFdExhaustion = true;
                    }
                    await loop.Delay(TimeSpan.FromMilliseconds(100));
                    continue;
                }
                client.TrySetNoDelay();
                _clients.Add(client);
                _ = EchoAsync(client); // runs on this loop; never throws (see below)
            }
            return true;
        }

        private async Task EchoAsync(NativeSocket client)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                if (options.Verbose)
                {
                    options.Output.WriteLine($"Accepted {client.RemoteEndPoint}");
                }
                while (true)
                {
                    int n = await loop.SockRecvAsync(client, buffer);
                    if (n == 0)
                    {
                        break; // the client closed its side
                    }
                    if (options.Verbose)
                    {
                        options.Output.WriteLine($"Echoing {n} bytes to {client.RemoteEndPoint}");
                    }
                    await loop.SockSendAllAsync(client, buffer.AsMemory(0, n)); // waits while the socket buffer is full
                }
            }
            catch (Exception e) when (e is PosixException or ObjectDisposedException)
            {
                // A reset, a broken pipe or shutdown ends this client only.
                if (options.Verbose)
                {
                    options.Output.WriteLine($"Client error: {e.Message}");
                }
            }
            finally
            {
                _clients.Remove(client);
                client.Dispose();
            }
        }

        /// <summary>Closes the listener and every client; each client's pending await fails and its coroutine ends.</summary>
        public bool CloseAll()
        {
            foreach (NativeSocket client in _clients.ToArray())
            {
                client.Dispose();
            }
            listener.Dispose();
            return true;
        }
    }
}
