using System.IO.Compression;

namespace Eddy.WebSockets;

/// <summary>
/// permessage-deflate (RFC 7692): messages compressed with the platform's zlib (<see cref="DeflateStream"/>). Set
/// <see cref="WebSocketOptions.Compression"/> to enable it: a server then accepts a client's offer, a client makes
/// one. Each direction keeps its compression context from message to message (a repeated message costs a few bytes)
/// unless its <c>*ContextTakeover</c> is false, which trades ratio for memory: the context is freed after every
/// message. Received messages are inflated a buffer at a time and checked against
/// <see cref="WebSocketOptions.MaxMessageSize"/> as they inflate, so a small message that inflates without end (a
/// decompression bomb) fails the connection with 1009 at the limit. zlib's state is made at a connection's first
/// compressed message, not before: about 225 KiB to compress (kept with the context) and 50 KiB to inflate.
/// </summary>
public sealed class WebSocketCompressionOptions
{
    /// <summary>
    /// Whether the server keeps its compression context between messages. False asks for
    /// <c>server_no_context_takeover</c> (a client offers it; a server answers with it). True by default; a client
    /// that asks for it is always granted it.
    /// </summary>
    public bool ServerContextTakeover { get; set; } = true;

    /// <summary>
    /// Whether the client keeps its compression context between messages. False asks for
    /// <c>client_no_context_takeover</c> (a client offers it; a server answers with it). True by default; a server
    /// that asks for it is always granted it.
    /// </summary>
    public bool ClientContextTakeover { get; set; } = true;

    /// <summary>zlib's level for messages sent. <see cref="CompressionLevel.Fastest"/> by default (as response compression).</summary>
    public CompressionLevel Level { get; set; } = CompressionLevel.Fastest;

    /// <summary>
    /// Whole messages shorter than this are sent uncompressed (RSV1 clear, as RFC 7692 allows per message): deflating
    /// a few bytes costs more CPU than it saves on the wire. 1,024 bytes by default (Node's <c>ws</c>); 0 compresses
    /// every non-empty message. A message sent in pieces is compressed whatever its first piece's size.
    /// </summary>
    public int Threshold { get; set; } = 1024;
}
