// An echo server on transports and protocols (asyncio's create_server), one event loop per core.
// Run it: dotnet run --project samples/03-ProtocolEcho         (listens on 127.0.0.1:8888)
//         dotnet run --project samples/03-ProtocolEcho -- 0    (any free port; the first line says which)
// Try it: nc 127.0.0.1 8888      (type a line: it comes back)
//
// A Protocol is called by its connection's loop: ConnectionMade, then DataReceived as bytes arrive, and
// PauseWriting/ResumeWriting when the client reads slower than we write (flow control).
using System.Net;
using Eddy.Loop;
using Eddy.Transports;

int port = args.Length > 0 ? int.Parse(args[0]) : 8888;
using var loops = new LoopGroup();                       // one loop per core, each on its own thread
loops.Start();
GroupServer server = await loops.CreateServerAsync(() => new Echo(), new IPEndPoint(IPAddress.Loopback, port));
Console.WriteLine($"listening on {server.EndPoint}");
await Task.Delay(Timeout.Infinite);

sealed class Echo : Protocol
{
    private Transport _transport = null!;
    public override void ConnectionMade(Transport transport) => _transport = transport;
    public override void DataReceived(ReadOnlySpan<byte> data) => _transport.Write(data);
    public override void PauseWriting() => _transport.PauseReading();   // the client is not reading:
    public override void ResumeWriting() => _transport.ResumeReading(); // stop reading it meanwhile
}
