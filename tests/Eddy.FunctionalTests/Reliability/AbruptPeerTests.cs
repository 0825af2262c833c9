using System.Net.Sockets;
using System.Text;
using Eddy.FunctionalTests.Http;
using Eddy.FunctionalTests.Transports;

namespace Eddy.FunctionalTests.Reliability;

/// <summary>
/// Peers that reset, half-close or send garbage get a 400 or a close: never a crash, a leaked descriptor
/// (the server's live connection count, which drops only after the fd is closed, returns to zero) or a
/// stuck connection; the server goes on serving others and logs nothing.
/// </summary>
public class AbruptPeerTests : IDisposable
{
    private readonly HttpTestServer _server = new(ReliabilityApp.Create());

    public void Dispose() => _server.Dispose();

    [Theory]
    [InlineData("GET /plaintext HTTP/1.1\r\nHost: x\r\nUser-Ag")]
    [InlineData("POST /anything HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nsome of the body")]
    [InlineData("POST /anything HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n400\r\npart of a chunk")]
    public async Task AResetMidRequestLeavesNothingBehind(string partialRequest)
    {
        Socket socket = await Client.ConnectAsync(_server.EndPoint);
        byte[] partial = Encoding.ASCII.GetBytes(partialRequest);
        await Client.SendAllAsync(socket, partial);
        await KernelSocket.WaitUntilServerReadAsync(_server.Loop, socket, partial.Length); // the reset comes mid-request, not before it

        Reset(socket);

        await AssertNothingLeftAsync();
    }

    [Theory]
    [InlineData("GET /stream/50 HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /big HTTP/1.1\r\nHost: x\r\n\r\n")]
    public async Task AResetMidResponseLeavesNothingBehind(string request)
    {
        Socket socket = await Client.ConnectAsync(_server.EndPoint, receiveBufferSize: 16 * 1024);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        await Client.ReceiveExactlyAsync(socket, 100_000); // the response is under way

        Reset(socket);

        await AssertNothingLeftAsync();
    }

    [Fact]
    public async Task AClientThatHalfClosesAfterPipelinedRequestsGetsEveryAnswerEvenFromASlowHandler()
    {
        string raw = await _server.RawAsync(
            "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\nGET /slow/300 HTTP/1.1\r\nHost: x\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
            halfClose: true);

        // In order: each body, then the next status line.
        Assert.Matches(@"^HTTP/1\.1 200 OK\r\n(.|\r\n)*Hello, World!HTTP/1\.1 200 OK\r\n(.|\r\n)*sleptHTTP/1\.1 200 OK\r\n(.|\r\n)*Hello, World!$", raw);
        await AssertNothingLeftAsync();
    }

    [Theory]
    [InlineData("random binary")]
    [InlineData("a TLS ClientHello")]
    [InlineData("1 MB of one byte")]
    [InlineData("1 MB of one byte after a request line")]
    [InlineData("1 MB of one byte in a field")]
    public async Task GarbageGetsA400OrACloseAndLeavesNothingBehind(string what)
    {
        byte[] garbage = Garbage(what);
        using Socket socket = await Client.ConnectAsync(_server.EndPoint);
        try
        {
            await Client.SendAllAsync(socket, garbage);
        }
        catch (SocketException)
        {
            // The server answered and closed before taking it all: that is allowed.
        }

        string answer = await HttpTestServer.ReadUntilClosedAsync(socket, TestTimeouts.Wait);

        Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 4"), $"{what}: {answer.Split('\r')[0]}");
        await AssertNothingLeftAsync();
    }

    /// <summary>The bytes named (built here, not in the theory's data, so that test discovery does not serialize megabytes).</summary>
    private static byte[] Garbage(string what)
    {
        byte[] ones = Enumerable.Repeat((byte)'A', 1024 * 1024).ToArray();
        switch (what)
        {
            case "random binary":
                byte[] random = new byte[64 * 1024];
                new Random(6).NextBytes(random);
                return random;
            case "a TLS ClientHello":
                // A TLS 1.2 ClientHello's record and handshake headers, then its random and session id (RFC 8446 §4.1.2).
                return [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, .. new byte[32], 0x20, .. new byte[32], 0x00, 0x02, 0x13, 0x01, 0x01, 0x00];
            case "1 MB of one byte":
                return ones;
            case "1 MB of one byte after a request line":
                return [.. "GET /"u8, .. ones];
            case "1 MB of one byte in a field":
                return [.. "GET / HTTP/1.1\r\nX: "u8, .. ones];
            default:
                throw new ArgumentException(what);
        }
    }

    /// <summary>Closes with SO_LINGER 0: the kernel sends RST instead of FIN.</summary>
    private static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Dispose();
    }

    private async Task AssertNothingLeftAsync()
    {
        await _server.WaitForConnectionCountAsync(0);
        await _server.AssertServesPlaintextAsync();
        await _server.WaitForConnectionCountAsync(0);
        Assert.Empty(_server.Errors);
    }
}
