using System.Net.WebSockets;

namespace Eddy.FunctionalTests.Chat;

internal static class WebSocketMessages
{
    /// <summary>
    /// Receives whole messages until the peer's close, handing each to <paramref name="onMessage"/> (its bytes are
    /// valid only during the call); a connection that ends otherwise throws the socket's exception.
    /// </summary>
    public static async Task ReadEachAsync(WebSocket socket, Action<ReadOnlyMemory<byte>> onMessage)
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        while (true)
        {
            ValueWebSocketReceiveResult result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                onMessage(message.GetBuffer().AsMemory(0, (int)message.Length));
                message.SetLength(0);
            }
        }
    }
}
