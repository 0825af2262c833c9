using System.Net.WebSockets;

namespace Eddy.WebSockets.Internal;

/// <summary>
/// <see cref="WebSocketConnection"/> as the BCL's <see cref="WebSocket"/>, for code written against it. The
/// <see cref="Memory{T}"/> overloads go straight through; the <see cref="ArraySegment{T}"/> ones cost the
/// BCL's result object and a <see cref="Task"/>. The peer's close is answered at once (so <see cref="State"/>
/// goes from Open to Closed, never CloseReceived), and <see cref="CloseAsync"/> then completes at once.
/// Loop thread only, as the connection.
/// </summary>
internal sealed class LoopWebSocket(WebSocketConnection connection) : WebSocket
{
    public override WebSocketCloseStatus? CloseStatus => connection.CloseStatus;

    public override string? CloseStatusDescription => connection.CloseStatusDescription;

    public override WebSocketState State => connection.State;

    public override string? SubProtocol => connection.SubProtocol;

    public override void Abort() => connection.Abort();

    public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
        connection.CloseAsync(closeStatus, statusDescription).AsTask().WaitAsync(cancellationToken);

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        _ = connection.CloseAsync(closeStatus, statusDescription); // the close frame is out; the peer's is read by ReceiveAsync
        return Task.CompletedTask;
    }

    public override void Dispose()
    {
        if (connection.State is WebSocketState.Open or WebSocketState.CloseSent)
        {
            connection.Abort();
        }
    }

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        ValueWebSocketReceiveResult result = await connection.ReceiveAsync(buffer, cancellationToken);
        return result.MessageType == WebSocketMessageType.Close
            ? new WebSocketReceiveResult(0, WebSocketMessageType.Close, true, connection.CloseStatus, connection.CloseStatusDescription)
            : new WebSocketReceiveResult(result.Count, result.MessageType, result.EndOfMessage);
    }

    public override ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        connection.ReceiveAsync(buffer, cancellationToken);

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        connection.SendAsync(buffer, messageType, endOfMessage).AsTask();

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        connection.SendAsync(buffer, messageType, endOfMessage);

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, WebSocketMessageFlags messageFlags, CancellationToken cancellationToken) =>
        connection.SendCoreAsync(buffer, messageType, (messageFlags & WebSocketMessageFlags.EndOfMessage) != 0,
            allowCompression: (messageFlags & WebSocketMessageFlags.DisableCompression) == 0);
}
