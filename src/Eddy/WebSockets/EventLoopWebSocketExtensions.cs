using System.Runtime.CompilerServices;
using Eddy.Http.Internal;
using Eddy.Loop;
using Eddy.Tls;
using Eddy.Transports;
using Eddy.WebSockets.Internal;

namespace Eddy.WebSockets;

/// <summary>
/// The WebSocket client: <c>await loop.ConnectWebSocketAsync(new Uri("wss://host/path"), options)</c> connects
/// (TCP, then TLS for <c>wss://</c>), makes the opening handshake (RFC 6455 §4.1) and returns a client-role
/// <see cref="WebSocketConnection"/> on this loop — the same type and API as a server's, except that every frame it
/// sends is masked with a fresh key and a masked frame from the server fails the connection (1002). Loop thread only.
/// </summary>
public static class EventLoopWebSocketExtensions
{
    // One heartbeat per loop for its client connections (keep-alive pings, close timeouts), as HttpServer has one for its own.
    private static readonly ConditionalWeakTable<EventLoop, HttpHeartbeat> s_heartbeats = new();

    extension(EventLoop loop)
    {
        /// <summary>
        /// Connects to the <c>ws://</c> or <c>wss://</c> <paramref name="uri"/> and makes the opening handshake: a fresh
        /// random key, the subprotocols and fields of <paramref name="options"/>; the answer must be a 101 with the right
        /// <c>Sec-WebSocket-Accept</c>, a subprotocol that was offered (or none) and no extension. Redirects are not followed.
        /// The whole connect is bounded by <see cref="WebSocketClientOptions.HandshakeTimeout"/> on the loop's clock.
        /// </summary>
        /// <exception cref="WebSocketHandshakeException">The server's answer was not an acceptable 101, or it came too late.</exception>
        /// <exception cref="ArgumentException">The URI is not an absolute ws:// or wss:// URI without a fragment, or a field of <see cref="WebSocketClientOptions.Headers"/> is one of the handshake's own or not a valid field.</exception>
        public async ValueTask<WebSocketConnection> ConnectWebSocketAsync(Uri uri, WebSocketClientOptions? options = null, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(uri);
            options ??= new WebSocketClientOptions();
            bool secure = CheckUri(uri);
            CheckHeaders(options);
            HttpHeartbeat heartbeat = s_heartbeats.GetValue(loop, static l => new HttpHeartbeat(l));
            var handshake = new WebSocketClientHandshake(loop, uri, options, heartbeat);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bool timedOut = false;
            TimerHandle timer = loop.CallLater(options.HandshakeTimeout, () =>
            {
                timedOut = true;
                handshake.Fail(new WebSocketHandshakeException(WebSocketHandshakeFailure.Timeout,
                    $"The WebSocket connect to {uri} did not complete within {options.HandshakeTimeout.TotalSeconds:0.###} s."));
                timeout.Cancel();
            });
            // The token may be cancelled on any thread; the handshake (and its transport) is the loop's.
            using CancellationTokenRegistration cancelled = cancellationToken.UnsafeRegister(
                _ => loop.CallSoonThreadSafe(() => handshake.Fail(new OperationCanceledException(cancellationToken))), null);
            try
            {
                string host = uri.DnsSafeHost;
                int port = uri.Port;
                if (secure)
                {
                    await loop.CreateConnectionAsync(() => handshake, host, port, options.Tls ?? new TlsClientOptions(), timeout.Token);
                }
                else
                {
                    await loop.CreateConnectionAsync(() => handshake, host, port, timeout.Token);
                }
                return await handshake.Result;
            }
            catch (OperationCanceledException) when (timedOut && !cancellationToken.IsCancellationRequested)
            {
                throw new WebSocketHandshakeException(WebSocketHandshakeFailure.Timeout,
                    $"The WebSocket connect to {uri} did not complete within {options.HandshakeTimeout.TotalSeconds:0.###} s.");
            }
            finally
            {
                timer.Cancel();
            }
        }
    }

    /// <summary>Whether the URI is wss:// (else ws://); throws for anything §3 does not allow.</summary>
    private static bool CheckUri(Uri uri)
    {
        if (!uri.IsAbsoluteUri || uri.Scheme is not ("ws" or "wss"))
        {
            throw new ArgumentException($"A WebSocket URI is absolute, ws:// or wss://, not \"{uri}\".", nameof(uri));
        }
        if (uri.Fragment.Length > 0)
        {
            throw new ArgumentException("A WebSocket URI has no fragment (RFC 6455 §3).", nameof(uri));
        }
        return uri.Scheme == "wss";
    }

    private static readonly string[] s_handshakeFields =
        ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Sec-WebSocket-Accept", "Content-Length", "Transfer-Encoding"];

    private static void CheckHeaders(WebSocketClientOptions options)
    {
        foreach ((string name, string value) in options.Headers)
        {
            if (string.IsNullOrEmpty(name) || name.Any(c => c <= ' ' || c >= 0x7F || c == ':'))
            {
                throw new ArgumentException($"\"{name}\" is not a valid field name.", nameof(options));
            }
            if (value.Any(c => c is '\r' or '\n' or '\0' || c > 0xFF))
            {
                throw new ArgumentException($"The value of {name} holds a line break, NUL or a character beyond Latin-1.", nameof(options));
            }
            if (s_handshakeFields.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"{name} is a field of the handshake itself; set it through the options, not Headers.", nameof(options));
            }
        }
        foreach (string subProtocol in options.SubProtocols)
        {
            if (string.IsNullOrEmpty(subProtocol) || subProtocol.Any(c => c <= ' ' || c >= 0x7F || "()<>@,;:\\\"/[]?={}".Contains(c)))
            {
                throw new ArgumentException($"\"{subProtocol}\" is not a valid subprotocol name (an HTTP token, RFC 6455 §4.1).", nameof(options));
            }
        }
    }
}
