namespace Eddy.WebSockets.Internal;

/// <summary>The frame opcodes of RFC 6455 §5.2; the others (3–7, 11–15) are reserved and fail the connection.</summary>
internal enum WebSocketOpcode : byte
{
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
}
