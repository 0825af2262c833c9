using System.Net;
using Eddy.Transports;

namespace Eddy.Cli.Echo;

/// <summary>
/// Step 5: asyncio's second layer. The loop's <see cref="Server"/> accepts connections and gives each
/// a <see cref="Transport"/> (buffered, non-blocking writes; reads handed over without a copy) and a
/// <see cref="Protocol"/> of ours that only says what to do with the bytes. Flow control is the
/// transport's high-water mark: when a client stops reading, we stop reading it too.
/// One loop per core (<c>--loops</c>), each with its own SO_REUSEPORT listener.
///
/// Run: <c>eddy echo --impl protocol [--loops N]</c>.
/// </summary>
internal sealed class ProtocolEchoServer(IPEndPoint endPoint, EchoOptions options)
    : GroupEchoServer("protocol", options.Loops, group => group.CreateServerAsync(() => new EchoProtocol(options), endPoint, options.Backlog))
{
    private sealed class EchoProtocol(EchoOptions options) : Protocol
    {
        private Transport _transport = null!;

        public override void ConnectionMade(Transport transport)
        {
            _transport = transport;
            if (options.Verbose)
            {
                options.Output.WriteLine($"Accepted {transport.RemoteEndPoint}");
            }
        }

        public override void DataReceived(ReadOnlySpan<byte> data)
        {
            if (options.Verbose)
            {
                options.Output.WriteLine($"Echoing {data.Length} bytes to {_transport.RemoteEndPoint}");
            }
            _transport.Write(data); // sent at once if the socket has room, else buffered by the transport
        }

        // The client is not reading its echo: stop reading what it sends until the backlog drains.
        public override void PauseWriting() => _transport.PauseReading();

        public override void ResumeWriting() => _transport.ResumeReading();
    }
}
