// Eddy's WebSocket client: connect, send a message, read the answer, close — on an event loop.
// Run it: dotnet run --project samples/05-WebSocketEcho   (in another terminal: the echo server on 127.0.0.1:8080)
//         dotnet run --project samples/09-WebSocketClient  (or -- ws://HOST:PORT/PATH, or wss://… with TLS)
using System.Net.WebSockets;
using System.Text;
using Eddy.Loop;
using Eddy.WebSockets;

var uri = new Uri(args.Length > 0 ? args[0] : "ws://127.0.0.1:8080/echo");
EventLoop.Run(async loop =>
{
    var options = new WebSocketClientOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) };  // TCP + TLS + upgrade, on the loop's clock
    options.SubProtocols.Add("echo");                               // offered in this order
    options.Headers.Add(new("Origin", "https://example.test"));     // any field but the handshake's own
    // options.Tls = new TlsClientOptions { … } for wss://; options.Connection = new WebSocketOptions { … } for limits and pings
    WebSocketConnection ws = await loop.ConnectWebSocketAsync(uri, options);
    await ws.SendTextAsync("hello");
    var buffer = new byte[1024];
    ValueWebSocketReceiveResult received = await ws.ReceiveAsync(buffer);
    Console.WriteLine($"{ws.SubProtocol}: {Encoding.UTF8.GetString(buffer, 0, received.Count)}");
    await ws.CloseAsync();
});
