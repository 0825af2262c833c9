using System.Net;
using System.Net.Sockets;
using Eddy.Transports;
using Microsoft.Win32.SafeHandles;

namespace Eddy.FunctionalTests.Transports;

/// <summary>
/// <see cref="Transport.SendFile(SafeFileHandle, long, int)"/> over loopback TCP: file regions keep their place among writes, a slow reader
/// queues them (and pauses the protocol), the caller may dispose its handle at once, a short file fails the
/// connection, and a dropped region gives its descriptor back.
/// </summary>
public sealed class SendFileTests : IDisposable
{
    private static readonly IPEndPoint AnyLoopbackPort = new(IPAddress.Loopback, 0);

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"eddy-sendfile-{Guid.NewGuid():N}.bin");
    private readonly byte[] _content = TestData.Bytes(4 << 20, seed: 17);

    public SendFileTests() => File.WriteAllBytes(_path, _content);

    public void Dispose() => File.Delete(_path);

    [Fact]
    public async Task RegionsGoInOrderBetweenWritesThroughASlowReaderAfterTheCallerDisposedTheHandle()
    {
        using var loop = new LoopThread();
        var accepted = new TaskCompletionSource<RecordingProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted, new RecordingProtocol()), AnyLoopbackPort));
        // A small receive window, and nothing read until everything is queued: the regions must wait in the transport.
        using Socket client = await Client.ConnectAsync(server.EndPoints[0], receiveBufferSize: 16 * 1024);
        RecordingProtocol protocol = await accepted.Task.WaitAsync(TestTimeouts.Wait);

        bool queuedAFile = await loop.Invoke(() =>
        {
            Transport transport = protocol.Transport;
            transport.Socket!.SendBufferSize = 16 * 1024;
            using (SafeFileHandle file = File.OpenHandle(_path))
            {
                Assert.True(transport.CanSendFile);
                transport.SendFile("head|"u8, file, 100, 3 << 20); // a header sent with the region
                transport.Write("|middle|"u8);
                transport.SendFile(file, 0, 1000);
                transport.Write("|tail"u8);
            } // disposed here: the transport's own reference keeps the descriptor open
            bool queued = transport.WriteBufferSize > 1 << 20;
            transport.Close();
            return queued;
        });
        (byte[] received, bool reset) = await Client.ReceiveToEndAsync(client);

        byte[] expected = [.. "head|"u8, .. _content.AsSpan(100, 3 << 20), .. "|middle|"u8, .. _content.AsSpan(0, 1000), .. "|tail"u8];
        Assert.False(reset);
        Assert.True(queuedAFile, "the file region was sent at once: the test did not exercise the queued path");
        Assert.Equal(TestData.Hash(expected), TestData.Hash(received));
        Assert.Null(await protocol.Lost.Task.WaitAsync(TestTimeouts.Wait));
        Assert.Contains("pause", protocol.Events);
        Assert.Contains("resume", protocol.Events);
        Assert.Empty(protocol.Violations);
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors();
    }

    [Fact]
    public async Task AFileShorterThanItsRegionFailsTheConnectionAfterTheBytesItHas()
    {
        using var loop = new LoopThread();
        var accepted = new TaskCompletionSource<RecordingProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted, new RecordingProtocol()), AnyLoopbackPort));
        using Socket client = await Client.ConnectAsync(server.EndPoints[0]);
        RecordingProtocol protocol = await accepted.Task.WaitAsync(TestTimeouts.Wait);

        await loop.Invoke(() =>
        {
            using SafeFileHandle file = File.OpenHandle(_path);
            protocol.Transport.SendFile(file, _content.Length - 1000, 5000); // 4,000 bytes past the end
        });
        (byte[] received, _) = await Client.ReceiveToEndAsync(client, resetIsEnd: true);

        Assert.Equal(_content.AsSpan(_content.Length - 1000).ToArray(), received);
        Assert.IsType<IOException>(await protocol.Lost.Task.WaitAsync(TestTimeouts.Wait));
        Assert.Contains(loop.Errors, e => e.Exception is IOException && e.Message.Contains("write error"));
        await loop.Invoke(server.Close);
    }

    [Fact]
    public async Task AnAbortedConnectionGivesBackTheDescriptorOfARegionItHadQueued()
    {
        using var loop = new LoopThread();
        var accepted = new TaskCompletionSource<RecordingProtocol>(TaskCreationOptions.RunContinuationsAsynchronously);
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted, new RecordingProtocol()), AnyLoopbackPort));
        using Socket client = await Client.ConnectAsync(server.EndPoints[0], receiveBufferSize: 16 * 1024);
        RecordingProtocol protocol = await accepted.Task.WaitAsync(TestTimeouts.Wait);

        int fd = await loop.Invoke(() =>
        {
            protocol.Transport.Socket!.SendBufferSize = 16 * 1024;
            using SafeFileHandle file = File.OpenHandle(_path);
            protocol.Transport.SendFile(file, 0, _content.Length);
            Assert.True(protocol.Transport.WriteBufferSize > 0, "the region was not queued");
            return (int)file.DangerousGetHandle();
        });
        Assert.True(IsOpenOn(fd, _path), "the queued region's descriptor was closed while it was still to be sent");

        await loop.Invoke(protocol.Transport.Abort);
        await protocol.Lost.Task.WaitAsync(TestTimeouts.Wait);

        Assert.False(IsOpenOn(fd, _path), "the aborted connection kept the file open");
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors();
    }

    [Fact]
    public async Task SendFileAfterWriteEofThrowsAndALostConnectionIgnoresIt()
    {
        using var loop = new LoopThread();
        TaskCompletionSource<RecordingProtocol>[] accepted = [new(TaskCreationOptions.RunContinuationsAsynchronously), new(TaskCreationOptions.RunContinuationsAsynchronously)];
        int connections = 0;
        Server server = await loop.Invoke(() => loop.Loop.CreateServer(() => Accept(accepted[connections++], new RecordingProtocol()), AnyLoopbackPort));
        using Socket first = await Client.ConnectAsync(server.EndPoints[0]);
        RecordingProtocol halfClosed = await accepted[0].Task.WaitAsync(TestTimeouts.Wait);
        using Socket second = await Client.ConnectAsync(server.EndPoints[0]);
        RecordingProtocol aborted = await accepted[1].Task.WaitAsync(TestTimeouts.Wait);

        await loop.Invoke(() =>
        {
            using SafeFileHandle file = File.OpenHandle(_path);
            halfClosed.Transport.WriteEof();
            Assert.Throws<InvalidOperationException>(() => halfClosed.Transport.SendFile(file, 0, 10));
        });
        await loop.Invoke(aborted.Transport.Abort);
        await aborted.Lost.Task.WaitAsync(TestTimeouts.Wait);
        await loop.Invoke(() =>
        {
            using SafeFileHandle file = File.OpenHandle(_path);
            aborted.Transport.SendFile(file, 0, 10); // as Write: nothing happens on a lost connection
        });
        (byte[] received, _) = await Client.ReceiveToEndAsync(second, resetIsEnd: true);

        Assert.Empty(received);
        await loop.Invoke(server.Close);
        loop.AssertNoLoopErrors();
    }

    private static bool IsOpenOn(int fd, string path)
    {
        FileSystemInfo link = new FileInfo($"/proc/self/fd/{fd}");
        return link.Exists && link.LinkTarget == path;
    }

    private static RecordingProtocol Accept(TaskCompletionSource<RecordingProtocol> accepted, RecordingProtocol protocol)
    {
        accepted.TrySetResult(protocol);
        return protocol;
    }
}
