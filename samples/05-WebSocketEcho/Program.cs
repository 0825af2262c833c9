// WebSockets (RFC 6455) on the loop: an echo endpoint, and a handler that accepts a WebSocket itself.
// Run it: dotnet run --project samples/05-WebSocketEcho        (listens on 127.0.0.1:8080)
//         dotnet run --project samples/05-WebSocketEcho -- 0   (any free port; the first line says which)
// Try it: python3 -m websockets ws://127.0.0.1:8080/echo       (Debian: python3-websockets)
//         python3 -m websockets ws://127.0.0.1:8080/hello
//
// The HTTP connection hands its socket to the WebSocket after the 101 Switching Protocols, on the same loop
// thread; the handler goes on there, and the connection closes (1000) when it returns.
using System.Net;
using System.Net.WebSockets;   // the BCL's enums and result type: WebSocketMessageType, WebSocketCloseStatus, …
using Eddy.Loop;
using Eddy.Transports;
using Eddy.Web;
using Eddy.WebSockets;

var app = new WebApp();
var options = new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) };
var compression = new WebSocketCompressionOptions { Threshold = 1024 };   // permessage-deflate (RFC 7692): off unless set

app.MapWebSocket("/echo", async (ctx, ws) =>
{
    var buffer = new byte[16 * 1024];
    while (true)
    {
        ValueWebSocketReceiveResult received = await ws.ReceiveAsync(buffer);   // a piece of a message, into your buffer
        if (received.MessageType == WebSocketMessageType.Close)
        {
            return;                                                            // the peer closed; the close was answered
        }
        await ws.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage);
    }
}, new WebSocketOptions { SubProtocols = ["echo"], MaxMessageSize = 32 * 1024 * 1024, OriginCheck = origin => origin is null or "https://example.test", Compression = compression });

// Or inside any handler: null means the request was not a valid handshake and its 400/426/403 is the response.
app.MapGet("/hello", async ctx =>
{
    WebSocketConnection? ws = await ctx.AcceptWebSocketAsync(options);
    if (ws is null)
    {
        return;
    }

    await ws.SendTextAsync("hello");                 // whole messages; SendAsync(…, endOfMessage: false) sends one in pieces
    await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye");   // waits for the peer's close (CloseTimeout, 5 s)
    WebSocket bcl = ws.AsWebSocket();                // a System.Net.WebSockets.WebSocket view, for BCL-shaped code
});

int port = args.Length > 0 ? int.Parse(args[0]) : 8080;
using var loops = new LoopGroup();                   // one loop per core
loops.Start();
GroupServer server = await app.ListenAsync(loops, new IPEndPoint(IPAddress.Loopback, port));
Console.WriteLine($"listening on http://{server.EndPoint}");
await Task.Delay(Timeout.Infinite);
