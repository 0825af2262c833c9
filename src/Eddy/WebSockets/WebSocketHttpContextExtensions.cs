using Eddy.Http;
using Eddy.Http.Internal;
using Eddy.WebSockets.Internal;

namespace Eddy.WebSockets;

/// <summary>
/// The WebSocket upgrade, on an HTTP handler's context: <c>ctx.IsWebSocketRequest</c> and
/// <c>await ctx.AcceptWebSocketAsync(options)</c>. HTTP core knows nothing of WebSockets; it only hands its
/// transport over after the 101 (see ARCHITECTURE.md, "WebSockets").
/// </summary>
public static class WebSocketHttpContextExtensions
{
    extension(HttpContext context)
    {
        /// <summary>True when the request asks for a WebSocket (an <c>Upgrade</c> field with the <c>websocket</c> token).</summary>
        public bool IsWebSocketRequest => WebSocketHandshake.IsUpgradeRequest(context.Request);

        /// <summary>
        /// Accepts the WebSocket handshake (RFC 6455 §4.2): checks the request (GET, HTTP/1.1, <c>Upgrade</c> and
        /// <c>Connection</c> tokens, a 16-byte <c>Sec-WebSocket-Key</c>, version 13, the origin), chooses the
        /// subprotocol and, when <see cref="WebSocketOptions.Compression"/> is set, permessage-deflate, answers 101 and takes the connection over, on this loop. Returns the connection, which is
        /// yours until the handler's task ends (then it is closed, 1000, if still open). A request that is not a valid
        /// handshake gets its refusal as the response — 400, 426 with <c>Sec-WebSocket-Version: 13</c>, or 403 — and
        /// this returns null. Completes synchronously.
        /// </summary>
        public ValueTask<WebSocketConnection?> AcceptWebSocketAsync(WebSocketOptions? options = null)
        {
            options ??= WebSocketOptions.Default;
            IConnectionUpgrader upgrader = context.Upgrader
                ?? throw new InvalidOperationException("This connection cannot be upgraded.");
            HandshakeFailure failure = WebSocketHandshake.Validate(context.Request, options, out string key);
            if (failure != HandshakeFailure.None)
            {
                WebSocketHandshake.Refuse(context.Response, failure);
                return new ValueTask<WebSocketConnection?>((WebSocketConnection?)null);
            }
            string? subProtocol = WebSocketHandshake.SelectSubProtocol(context.Request.Headers, options.SubProtocols);
            HttpResponse response = context.Response;
            response.StatusCode = 101;
            response.Headers.Set("Upgrade", "websocket");
            response.Headers.Set("Connection", "Upgrade");
            response.Headers.Set("Sec-WebSocket-Accept", WebSocketHandshake.ComputeAccept(key));
            if (subProtocol is not null)
            {
                response.Headers.Set("Sec-WebSocket-Protocol", subProtocol);
            }
            string? extensions = null;
            DeflateParameters agreed = default;
            if (options.Compression is { } compression)
            {
                extensions = PerMessageDeflateNegotiation.Accept(WebSocketHandshake.FieldValues(context.Request.Headers, "Sec-WebSocket-Extensions"), compression, out agreed);
                if (extensions is not null)
                {
                    response.Headers.Set("Sec-WebSocket-Extensions", extensions);
                }
            }
            var connection = new WebSocketConnection(context.Loop, options, upgrader.Heartbeat, isServer: true, subProtocol,
                extensions, extensions is null ? null : agreed);
            upgrader.Upgrade(connection.Protocol);
            return new ValueTask<WebSocketConnection?>(connection);
        }
    }
}

/// <summary>A WebSocket endpoint's handler: runs on the connection's loop once the handshake is accepted; the connection closes when it ends.</summary>
public delegate ValueTask WebSocketHandler(HttpContext context, WebSocketConnection webSocket);
