using System.Net;
using Eddy.Streams;
using Eddy.Streams.Internal;
using Eddy.Transports;

namespace Eddy.Loop;

// Servers and connections as reader/writer pairs (asyncio's start_server / open_connection).
// This part of EventLoop lives with the Streams layer that it serves.
public sealed partial class EventLoop
{
    /// <summary>
    /// Listens on <paramref name="endPoint"/> and calls <paramref name="clientConnected"/> with a
    /// reader/writer pair for each connection accepted. The callback runs on the loop thread (inline, up to
    /// its first await; its continuations on the loop too). When the task it returns ends, the connection
    /// is closed (after sending what is buffered); an exception from it goes to
    /// <see cref="CallExceptionHandler"/> first. Port 0 picks a free port (see <see cref="Server.EndPoints"/>).
    /// </summary>
    public Server StartServer(Func<AsyncStreamReader, AsyncStreamWriter, Task> clientConnected, EndPoint endPoint, int backlog = 511, bool reusePort = false)
    {
        ArgumentNullException.ThrowIfNull(clientConnected);
        return CreateServer(() => new StreamReaderProtocol(this, clientConnected), endPoint, backlog, reusePort);
    }

    /// <summary>Like <see cref="StartServer"/>, resolving <paramref name="host"/> first (an IP literal, "localhost", or a name).</summary>
    public ValueTask<Server> StartServerAsync(Func<AsyncStreamReader, AsyncStreamWriter, Task> clientConnected, string host, int port, int backlog = 511, bool reusePort = false)
    {
        ArgumentNullException.ThrowIfNull(clientConnected);
        return CreateServerAsync(() => new StreamReaderProtocol(this, clientConnected), host, port, backlog, reusePort);
    }

    /// <summary>Like <see cref="StartServer"/>, on a Unix domain socket at <paramref name="path"/>; a stale socket file there is replaced.</summary>
    public Server StartUnixServer(Func<AsyncStreamReader, AsyncStreamWriter, Task> clientConnected, string path, int backlog = 511)
    {
        ArgumentNullException.ThrowIfNull(clientConnected);
        return CreateUnixServer(() => new StreamReaderProtocol(this, clientConnected), path, backlog);
    }

    /// <summary>
    /// Connects to <paramref name="host"/>:<paramref name="port"/> (trying each resolved address in turn)
    /// and returns the connection's reader and writer.
    /// </summary>
    public async ValueTask<(AsyncStreamReader Reader, AsyncStreamWriter Writer)> OpenConnectionAsync(string host, int port, CancellationToken cancellationToken = default)
    {
        (_, StreamReaderProtocol protocol) = await CreateConnectionAsync(() => new StreamReaderProtocol(this, null), host, port, cancellationToken);
        return (protocol.Reader, protocol.Writer);
    }

    /// <summary>Connects to <paramref name="endPoint"/> (IP or Unix) and returns the connection's reader and writer.</summary>
    public async ValueTask<(AsyncStreamReader Reader, AsyncStreamWriter Writer)> OpenConnectionAsync(EndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        (_, StreamReaderProtocol protocol) = await ConnectAsync(() => new StreamReaderProtocol(this, null), endPoint, cancellationToken);
        return (protocol.Reader, protocol.Writer);
    }

    /// <summary>Connects to the Unix domain socket at <paramref name="path"/> and returns the connection's reader and writer.</summary>
    public ValueTask<(AsyncStreamReader Reader, AsyncStreamWriter Writer)> OpenUnixConnectionAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return OpenConnectionAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(path), cancellationToken);
    }

    /// <summary>The wrong-thread check of loop calls, for the stream types (which call it in debug mode only).</summary>
    internal void CheckStreamCall(string operation) => CheckLoopCall(operation);
}
