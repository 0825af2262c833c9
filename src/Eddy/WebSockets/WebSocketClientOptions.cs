using Eddy.Tls;

namespace Eddy.WebSockets;

/// <summary>
/// The settings of a client's opening handshake (<see cref="EventLoopWebSocketExtensions"/>): the subprotocols
/// offered, extra request fields, TLS for <c>wss://</c>, the time the whole connect may take, and the connection's
/// own limits and timeouts (<see cref="Connection"/>). One object may serve many connects; do not change it while
/// they run. permessage-deflate is offered when <see cref="WebSocketOptions.Compression"/> of <see cref="Connection"/>
/// is set; no other extension is, so a server that answers with another is refused.
/// </summary>
public sealed class WebSocketClientOptions
{
    /// <summary>The subprotocols offered, in order of preference (<c>Sec-WebSocket-Protocol</c>). The server may choose one or none; choosing another fails the connect.</summary>
    public IList<string> SubProtocols { get; } = [];

    /// <summary>Extra request fields (an <c>Origin</c>, an <c>Authorization</c>, cookies). The handshake's own fields may not be set here.</summary>
    public IList<KeyValuePair<string, string>> Headers { get; } = [];

    /// <summary>
    /// How long the connect may take, from the first resolve to the server's 101 — TCP connect, TLS handshake and
    /// HTTP upgrade together — on the loop's clock; then it fails with <see cref="WebSocketHandshakeFailure.Timeout"/>.
    /// 10 s by default.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>TLS for <c>wss://</c> URIs (certificate checks, trusted roots); null uses the defaults. Unused for <c>ws://</c>.</summary>
    public TlsClientOptions? Tls { get; set; }

    /// <summary>The connection's limits and timeouts once open (message size, keep-alive pings, close timeout) and its compression; the subprotocol and origin settings there are the server's and are not used.</summary>
    public WebSocketOptions Connection { get; set; } = new();
}
