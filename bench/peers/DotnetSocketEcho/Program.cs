// dotnet-socket-echo: a plain System.Net.Sockets async/await TCP echo server,
// the baseline "what a typical .NET developer writes" peer for bench/echo.sh.
//
//   usage: DotnetSocketEcho PORT
//
// Binds 127.0.0.1:PORT, accepts in a loop, and runs one async Task per
// connection: ReceiveAsync into a 64 KiB buffer, SendAsync until every byte is
// written, repeat until EOF or error. NoDelay is set on accepted sockets.

using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

if (args.Length != 1 || !int.TryParse(args[0], out int port) || port is < 1 or > 65535)
{
    Console.Error.WriteLine("usage: DotnetSocketEcho PORT");
    return 2;
}

using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
listener.Listen(512);

using var stop = new CancellationTokenSource();
using var onSigInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Shutdown);
using var onSigTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Shutdown);

void Shutdown(PosixSignalContext context)
{
    context.Cancel = true; // we exit ourselves, cleanly
    stop.Cancel();
}

Console.WriteLine($"dotnet-socket-echo listening on 127.0.0.1:{port}");
Console.Out.Flush();

try
{
    while (!stop.IsCancellationRequested)
    {
        Socket client = await listener.AcceptAsync(stop.Token);
        client.NoDelay = true;
        _ = EchoAsync(client);
    }
}
catch (OperationCanceledException)
{
    // Shutting down (SIGINT/SIGTERM).
}

return 0;

static async Task EchoAsync(Socket socket)
{
    byte[] buffer = new byte[64 * 1024];
    try
    {
        while (true)
        {
            int read = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None);
            if (read == 0)
            {
                break; // EOF
            }

            int sent = 0;
            while (sent < read)
            {
                sent += await socket.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None);
            }
        }
    }
    catch (SocketException)
    {
        // Peer reset or similar: just drop the connection.
    }
    catch (ObjectDisposedException)
    {
    }
    finally
    {
        socket.Dispose();
    }
}
