using Eddy.Loop;
using Eddy.Transports;

namespace Eddy.Streams.Internal;

/// <summary>
/// Adapts a transport's callbacks to a reader/writer pair (asyncio's <c>StreamReaderProtocol</c>):
/// received bytes, EOF and failure go to the <see cref="AsyncStreamReader"/>; write flow control and
/// the end of the connection go to the <see cref="AsyncStreamWriter"/>. On a server, ConnectionMade
/// starts the client-connected callback, and the connection is closed when the task it returns ends.
/// </summary>
internal sealed class StreamReaderProtocol : Protocol
{
    private readonly EventLoop _loop;
    private readonly Func<AsyncStreamReader, AsyncStreamWriter, Task>? _clientConnected;
    private Task? _client; // keeps the callback's task reachable while the connection lives

    public StreamReaderProtocol(EventLoop loop, Func<AsyncStreamReader, AsyncStreamWriter, Task>? clientConnected)
    {
        _loop = loop;
        _clientConnected = clientConnected;
        Reader = new AsyncStreamReader(loop);
    }

    public AsyncStreamReader Reader { get; }

    /// <summary>Set in <see cref="ConnectionMade"/>, which the transport calls before anything else.</summary>
    public AsyncStreamWriter Writer { get; private set; } = null!;

    public override void ConnectionMade(Transport transport)
    {
        Reader.SetTransport(transport);
        Writer = new AsyncStreamWriter(_loop, transport);
        if (_clientConnected is not null)
        {
            _client = RunClientAsync(transport);
        }
    }

    public override void DataReceived(ReadOnlySpan<byte> data) => Reader.FeedData(data);

    public override bool EofReceived()
    {
        Reader.FeedEof();
        return true; // keep the connection open for writing: the answer may come after the peer's EOF
    }

    public override void ConnectionLost(Exception? error)
    {
        // Both sides learn the news before either wakes a waiter: a read that fails and then drains, or
        // the reverse, must see the connection lost on both.
        Writer.MarkConnectionLost(error);
        if (error is null)
        {
            Reader.FeedEof();
        }
        else
        {
            Reader.SetException(error);
        }
        Writer.OnConnectionLost();
    }

    public override void PauseWriting() => Writer.OnPauseWriting();

    public override void ResumeWriting() => Writer.OnResumeWriting();

    /// <summary>
    /// Runs the callback on the loop thread, inline up to its first await. Whatever it throws goes to the
    /// loop's exception handler (cancellation is taken as a normal end); either way the connection is
    /// then closed, after sending what is buffered.
    /// </summary>
    private async Task RunClientAsync(Transport transport)
    {
        try
        {
            await _clientConnected!(Reader, Writer);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            _loop.CallExceptionHandler(new LoopExceptionContext("Unhandled exception in the client-connected callback", e, _clientConnected, transport));
        }
        finally
        {
            transport.Close();
        }
    }
}
