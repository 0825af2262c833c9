using System.Net.Sockets;
using System.Text;
using Eddy.Cli.Serve;

namespace Eddy.FunctionalTests.Http;

/// <summary>
/// A client still sending when the server rejects its request gets the error response, not a reset: the
/// server's close lingers (FIN after the answer, input dropped until the client's EOF), as nginx's does.
/// </summary>
public sealed class HttpLingeringCloseTests : IDisposable
{
    private readonly HttpTestServer _server = new(DemoApp.Create(DemoApp.DefaultStaticFolder));

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task AClientStillSendingGetsItsErrorResponseNotAReset()
    {
        byte[] flood = Encoding.ASCII.GetBytes(new string('A', 4 * 1024 * 1024)); // a request line far past every limit
        for (int trial = 0; trial < 10; trial++)
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(_server.EndPoint);
            Task<string> answer = ReadUntilEofAsync(socket);
            try
            {
                await socket.SendAsync(flood);
            }
            catch (SocketException)
            {
                // The server may stop reading once it has answered: the send need not complete.
            }
            string text = await answer;
            Assert.StartsWith("HTTP/1.1 414 ", text);
            Assert.Contains("Connection: close", text);
        }
        Assert.Empty(_server.Errors);
    }

    [Fact]
    public async Task AnUploadPastTheLimitGets413WhileTheClientIsStillSending()
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_server.EndPoint);
        Task<string> answer = ReadUntilEofAsync(socket);
        // No Content-Length limit is announced up front (chunked), so the 413 comes as the body passes the limit.
        await socket.SendAsync("POST /anything HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray());
        byte[] chunk = Encoding.ASCII.GetBytes($"{1024 * 1024:x}\r\n{new string('b', 1024 * 1024)}\r\n");
        try
        {
            for (int i = 0; i < 40; i++) // 40 MiB, past the 30 MB default limit
            {
                await socket.SendAsync(chunk);
            }
        }
        catch (SocketException)
        {
            // Once lingering ends (the client's EOF or its timeout) the server may close: sends then fail.
        }
        Assert.StartsWith("HTTP/1.1 413 ", await answer);
    }

    /// <summary>Everything the server sends until its FIN; a reset before it fails the test with what had arrived.</summary>
    private static async Task<string> ReadUntilEofAsync(Socket socket)
    {
        var received = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            }
            catch (SocketException e)
            {
                Assert.Fail($"{e.SocketErrorCode} after {received.Length} bytes: {Encoding.ASCII.GetString(received.ToArray())}");
                throw;
            }
            if (n == 0)
            {
                return Encoding.ASCII.GetString(received.ToArray());
            }
            received.Write(buffer, 0, n);
        }
    }
}
