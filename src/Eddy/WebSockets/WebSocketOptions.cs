namespace Eddy.WebSockets;

/// <summary>
/// The settings of a WebSocket endpoint: the handshake (subprotocols, origin check) and the connection's
/// limits and timeouts. One object may serve many connections; do not change it while they run.
/// </summary>
public sealed class WebSocketOptions
{
    /// <summary>
    /// The subprotocols this endpoint speaks. The first one the client offers (in its order) that is in this list
    /// is chosen and sent back in <c>Sec-WebSocket-Protocol</c>; when none is, the answer has no such field
    /// (RFC 6455 §4.2.2) and <see cref="WebSocketConnection.SubProtocol"/> is null. Empty by default.
    /// </summary>
    public IReadOnlyList<string> SubProtocols { get; set; } = [];

    /// <summary>
    /// Decides whether a handshake's <c>Origin</c> (null when the client sent none: not a browser) is allowed;
    /// false answers 403 (RFC 6455 §4.2.2, and §10.2: browsers send it, so this is the defence against
    /// cross-site WebSocket hijacking). Null (the default) allows every origin.
    /// </summary>
    public Func<string?, bool>? OriginCheck { get; set; }

    /// <summary>The largest message received: one declared longer fails the connection with 1009 at the frame header that passes it. 1 MiB by default; null for none.</summary>
    public long? MaxMessageSize { get; set; } = 1024 * 1024;

    /// <summary>The largest frame received (1009 beyond it, at its header). Null (the default): only <see cref="MaxMessageSize"/> applies.</summary>
    public long? MaxFrameSize { get; set; }

    /// <summary>
    /// How many received bytes may wait for the application's <see cref="WebSocketConnection.ReceiveAsync"/>
    /// before the connection stops reading from the socket (TCP then slows the peer). 64 KiB by default.
    /// </summary>
    public int MaxReceiveBufferSize { get; set; } = 64 * 1024;

    /// <summary>After this long with nothing received, a ping is sent. 30 s by default; <see cref="TimeSpan.Zero"/> sends none.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A ping not answered by a pong within this long means a dead peer: the connection is closed (1011) and aborted. 30 s by default.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the close handshake may take once a close frame is sent; then the connection is aborted. 5 s by default.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>After this long with no data message received or sent, the connection is closed (1001, going away). Null (the default): never.</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>
    /// permessage-deflate (RFC 7692): null (the default) neither offers nor accepts it; set, a server accepts a
    /// client's offer and a client makes one, with these settings.
    /// </summary>
    public WebSocketCompressionOptions? Compression { get; set; }

    internal static WebSocketOptions Default { get; } = new();
}
