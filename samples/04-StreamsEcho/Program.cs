// A line server on streams (asyncio's start_server): it answers each line upper-cased.
// Run it: dotnet run --project samples/04-StreamsEcho          (listens on 127.0.0.1:8889)
//         dotnet run --project samples/04-StreamsEcho -- 0     (any free port; the first line says which)
// Try it: nc 127.0.0.1 8889      (type a line: it comes back in capitals)
//
// One coroutine per client, reading with AsyncStreamReader and writing with AsyncStreamWriter; DrainAsync
// is the flow control: it waits only while the client is not reading what we wrote.
using System.Net;
using System.Text;
using Eddy.Loop;
using Eddy.Streams;                                          // loop.StartServer, AsyncStreamReader/Writer
using Eddy.Transports;                                       // Server

int port = args.Length > 0 ? int.Parse(args[0]) : 8889;
EventLoop.Run(async loop =>
{
    Server server = loop.StartServer(async (reader, writer) =>
    {
        string? line;
        while ((line = await reader.ReadLineAsync()) is not null)
        {
            writer.Write(Encoding.UTF8.GetBytes(line.ToUpperInvariant() + "\n"));
            await writer.DrainAsync();                       // waits only while the client is not reading
        }
    }, new IPEndPoint(IPAddress.Loopback, port));
    Console.WriteLine($"listening on 127.0.0.1:{server.Port}");
    await server.WaitClosedAsync();
});
