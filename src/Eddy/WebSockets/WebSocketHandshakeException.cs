namespace Eddy.WebSockets;

/// <summary>Why a client's opening handshake failed (<see cref="WebSocketHandshakeException.Failure"/>).</summary>
public enum WebSocketHandshakeFailure
{
    /// <summary>The connect (TCP, TLS and upgrade together) took longer than <see cref="WebSocketClientOptions.HandshakeTimeout"/>.</summary>
    Timeout,

    /// <summary>The server answered with a status other than 101 (a redirect too: redirects are not followed).</summary>
    BadStatus,

    /// <summary>The answer is not HTTP/1.1 that can be read, or its head is too long.</summary>
    BadResponse,

    /// <summary>The 101 lacks <c>Upgrade: websocket</c> or <c>Connection: Upgrade</c>.</summary>
    MissingUpgrade,

    /// <summary>The 101's <c>Sec-WebSocket-Accept</c> is missing or not the one our key asks for (RFC 6455 §4.1).</summary>
    BadAccept,

    /// <summary>The server chose a subprotocol that was not offered.</summary>
    UnexpectedSubProtocol,

    /// <summary>The server answered with an extension that was not offered.</summary>
    UnexpectedExtension,

    /// <summary>The server closed the connection before its answer was complete.</summary>
    ConnectionClosed,
}

/// <summary>
/// A client's opening handshake failed after the TCP (and TLS) connection was made: the server's answer was not
/// an acceptable 101, or it came too late. The connection is closed. Connection errors before that (refused,
/// unreachable, a TLS failure) are thrown as they are.
/// </summary>
public sealed class WebSocketHandshakeException : IOException
{
    /// <summary>Creates the exception for <paramref name="failure"/>, with the answer's status when there was one.</summary>
    public WebSocketHandshakeException(WebSocketHandshakeFailure failure, string message, int? statusCode = null)
        : base(message)
    {
        Failure = failure;
        StatusCode = statusCode;
    }

    /// <summary>What went wrong.</summary>
    public WebSocketHandshakeFailure Failure { get; }

    /// <summary>The status of the server's answer, when one was read; else null.</summary>
    public int? StatusCode { get; }
}
