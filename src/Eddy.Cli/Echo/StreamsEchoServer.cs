using System.Net;
using Eddy.Streams;

namespace Eddy.Cli.Echo;

/// <summary>
/// Step 6: asyncio's streams over the transports of step 5. Each client is one coroutine again, as in
/// step 4, but it reads from an <see cref="AsyncStreamReader"/> (buffered, with a limit and
/// ReadLine/ReadUntil/ReadExactly) and writes to an <see cref="AsyncStreamWriter"/>, whose
/// <see cref="AsyncStreamWriter.DrainAsync"/> is where flow control shows: it waits while the client is
/// not reading its echo. One loop per core (<c>--loops</c>).
///
/// Run: <c>eddy echo --impl streams [--loops N]</c>.
/// </summary>
internal sealed class StreamsEchoServer(IPEndPoint endPoint, EchoOptions options)
    : GroupEchoServer("streams", options.Loops, group => group.StartServerAsync((reader, writer) => EchoAsync(reader, writer, options), endPoint, options.Backlog))
{
    private static async Task EchoAsync(AsyncStreamReader reader, AsyncStreamWriter writer, EchoOptions options)
    {
        if (options.Verbose)
        {
            options.Output.WriteLine($"Accepted {writer.RemoteEndPoint}");
        }
        var buffer = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await reader.ReadAsync(buffer)) > 0)
            {
                if (options.Verbose)
                {
                    options.Output.WriteLine($"Echoing {n} bytes to {writer.RemoteEndPoint}");
                }
                writer.Write(buffer.AsSpan(0, n));
                await writer.DrainAsync(); // completes at once unless the client stopped reading
            }
        }
        catch (IOException e)
        {
            // A reset or broken pipe ends this client only; the server closes the connection when we return.
            if (options.Verbose)
            {
                options.Output.WriteLine($"Client error: {e.Message}");
            }
        }
    }
}
