// An echo server on the loop's socket awaitables (asyncio's loop.sock_*): one coroutine per client, one thread.
// Run it: dotnet run --project samples/02-SocketEcho           (listens on 127.0.0.1:8888)
//         dotnet run --project samples/02-SocketEcho -- 0      (any free port; the first line says which)
// Try it: nc 127.0.0.1 8888      (type a line: it comes back)
using System.Net;
using Eddy.Loop;
using Eddy.Sockets;

int port = args.Length > 0 ? int.Parse(args[0]) : 8888;
EventLoop.Run(async loop =>
{
    using var listener = NativeSocket.CreateListener(new IPEndPoint(IPAddress.Loopback, port));
    Console.WriteLine($"listening on {listener.LocalEndPoint}");
    while (true)
    {
        NativeSocket client = await loop.SockAcceptAsync(listener);
        _ = EchoAsync(loop, client); // one coroutine per client, all on this thread
    }
});

static async Task EchoAsync(EventLoop loop, NativeSocket client)
{
    using (client)
    {
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await loop.SockRecvAsync(client, buffer)) > 0)
        {
            await loop.SockSendAllAsync(client, buffer.AsMemory(0, n));
        }
    }
}
