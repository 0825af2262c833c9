using System.Collections.Concurrent;
using System.Net.Sockets;
using Eddy.Loop;
using Eddy.Sockets;
using Eddy.Transports;

namespace Eddy.FunctionalTests.Transports;

/// <summary>Servers and connections over Unix domain sockets, and the socket file's life.</summary>
public class UnixServerTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task AUnixServerAndConnectionEchoAndClosingTheServerRemovesTheSocketFile()
    {
        string path = NewSocketPath();
        try
        {
            await RunOnLoopAsync(async loop =>
            {
                Server server = loop.CreateUnixServer(() => new EchoProtocol(), path);
                Assert.True(File.Exists(path));
                Assert.Equal(0, server.Port);
                Assert.Equal(path, Assert.IsType<UnixDomainSocketEndPoint>(server.EndPoints[0]).ToString());

                await AssertEchoesAsync(loop, path, size: 300_000);

                server.Close();
                Assert.False(File.Exists(path), "Server.Close left the socket file behind");
                await server.WaitClosedAsync().WaitAsync(TestTimeouts.Wait);
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task AStaleSocketFileLeftAtThePathIsReplaced()
    {
        string path = NewSocketPath();
        try
        {
            // What a crashed server leaves: a socket file that nobody listens on.
            NativeSocket.CreateListener(new UnixDomainSocketEndPoint(path)).Dispose();
            Assert.True(File.Exists(path));

            await RunOnLoopAsync(async loop =>
            {
                Server server = loop.CreateUnixServer(() => new EchoProtocol(), path);
                await AssertEchoesAsync(loop, path, size: 1000);
                server.Close();
                await server.WaitClosedAsync().WaitAsync(TestTimeouts.Wait);
            });
            Assert.False(File.Exists(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ARegularFileAtThePathIsLeftAlone()
    {
        string path = NewSocketPath();
        try
        {
            File.WriteAllText(path, "not a socket");
            await RunOnLoopAsync(loop =>
            {
                var e = Assert.Throws<PosixException>(() => loop.CreateUnixServer(() => new EchoProtocol(), path));
                Assert.Equal(Errno.EADDRINUSE, e.Errno);
                return Task.CompletedTask;
            });
            Assert.Equal("not a socket", File.ReadAllText(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string NewSocketPath() => Path.Combine(Path.GetTempPath(), $"eddy-test-{Guid.NewGuid():N}.sock");

    /// <summary>Connects with the loop's own client, sends <paramref name="size"/> bytes and checks they come back, then closes cleanly.</summary>
    private static async Task AssertEchoesAsync(EventLoop loop, string path, int size)
    {
        byte[] message = TestData.Bytes(size, seed: size);
        (Transport transport, RecordingProtocol client) = await loop.CreateUnixConnectionAsync(() => new RecordingProtocol(), path);
        transport.Write(message);
        transport.WriteEof();
        // The echo server closes after our EOF, once it has sent everything back.
        Assert.Null(await client.Lost.Task.WaitAsync(TestTimeouts.Wait));
        Assert.True(TestData.Hash(message) == TestData.Hash(client.Received), $"sent {size} bytes, got {client.ReceivedCount} back, or different ones");
        Assert.Equal(["made", "eof", "lost"], client.Events.Where(e => e is not ("data" or "pause" or "resume")));
        Assert.Empty(client.Violations);
    }

    private static async Task RunOnLoopAsync(Func<EventLoop, Task> test)
    {
        var errors = new ConcurrentQueue<LoopExceptionContext>();
        await Task.Run(() => EventLoop.Run(loop =>
        {
            loop.ExceptionHandler = (_, context) => errors.Enqueue(context);
            return test(loop);
        })).WaitAsync(TestTimeout);
        Assert.Empty(errors);
    }
}
