using System.Text;
using Eddy.Fuzz;
using Eddy.Http;
using Eddy.Http.Internal;
using Eddy.Transports;

namespace Eddy.UnitTests.Http;

/// <summary>
/// The seam a layer above uses to take a connection over after a 101 (WebSockets): answers before it go out first,
/// the bytes after the upgrading head go to the new protocol in order whatever the reads, later reads go to it
/// directly, and the handler's end is reported to it.
/// </summary>
public sealed class HttpConnectionUpgradeTests
{
    private static readonly byte[] s_stream = Encoding.ASCII.GetBytes(
        "GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /up HTTP/1.1\r\nHost: x\r\nUpgrade: test\r\nConnection: upgrade\r\n\r\nafter the head");

    private sealed class RecordingProtocol : UpgradedProtocol
    {
        public List<string> Events { get; } = [];

        public MemoryStream Received { get; } = new();

        public override void ConnectionMade(Transport transport) => Events.Add("made");

        public override void DataReceived(ReadOnlySpan<byte> data) => Received.Write(data);

        public override bool EofReceived()
        {
            Events.Add("eof");
            return true;
        }

        internal override void HandlerCompleted(Exception? error) => Events.Add("handler ended" + (error is null ? "" : ": " + error.Message));
    }

    private static RequestHandler App(RecordingProtocol protocol, Func<Task>? beforeUpgrade = null) => async ctx =>
    {
        if (ctx.Request.Path != "/up")
        {
            ctx.Response.Text("first");
            return;
        }
        if (beforeUpgrade is not null)
        {
            await beforeUpgrade();
        }
        ctx.Response.StatusCode = 101;
        ctx.Response.Headers.Set("Upgrade", "test");
        ctx.Response.Headers.Set("Connection", "Upgrade");
        ctx.Upgrader!.Upgrade(protocol);
    };

    [Fact]
    public void TheAnswersBeforeThe101GoFirstAndTheBytesAfterTheHeadGoToTheNewProtocolWhateverTheReads()
    {
        for (int cut = 0; cut <= s_stream.Length; cut++)
        {
            var protocol = new RecordingProtocol();
            using var http = new InMemoryHttp(App(protocol));
            http.Run(async () =>
            {
                await http.SendAsync(s_stream.AsMemory(0, cut));
                await http.SendAsync(s_stream.AsMemory(cut));
                await http.SendAsync("later"u8.ToArray());
            });
            string output = http.OutputText;
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", output);
            int switching = output.IndexOf("HTTP/1.1 101 Switching Protocols\r\n", StringComparison.Ordinal);
            Assert.True(switching > output.IndexOf("first", StringComparison.Ordinal), output);
            Assert.EndsWith("\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n", output);
            Assert.DoesNotContain("Content-Length", output[switching..]);
            Assert.Equal("after the headlater", Encoding.ASCII.GetString(protocol.Received.ToArray()));
            Assert.Equal(["made", "handler ended"], protocol.Events);
            Assert.Same(protocol, http.Transport.Protocol);
            Assert.False(http.Transport.IsClosing);
            Assert.Empty(http.Errors);
        }
    }

    [Fact]
    public void BytesThatArriveWhileTheHandlerWaitsBeforeUpgradingAreHandedOverInOrder()
    {
        var protocol = new RecordingProtocol();
        var go = new TaskCompletionSource();
        using var http = new InMemoryHttp(App(protocol, () => go.Task));
        http.Run(async () =>
        {
            await http.SendAsync(s_stream);
            await http.SendAsync(" and more"u8.ToArray());
            Assert.Empty(protocol.Events);
            go.SetResult();
            await http.SettleAsync();
            await http.SendAsync(", then this"u8.ToArray());
            await http.SendEofAsync();
        });
        Assert.Equal("after the head and more, then this", Encoding.ASCII.GetString(protocol.Received.ToArray()));
        Assert.Equal(["made", "handler ended", "eof"], protocol.Events);
    }

    [Fact]
    public void AHandlerThatThrowsAfterUpgradingIsReportedToTheNewProtocolNotAnsweredWith500()
    {
        var protocol = new RecordingProtocol();
        using var http = new InMemoryHttp(async ctx =>
        {
            ctx.Response.StatusCode = 101;
            ctx.Upgrader!.Upgrade(protocol);
            await Task.Yield();
            throw new InvalidOperationException("boom");
        });
        http.Run(async () => await http.SendAsync("GET /up HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray()));
        Assert.Equal(["made", "handler ended: boom"], protocol.Events);
        Assert.DoesNotContain("500", http.OutputText);
    }

    [Fact]
    public void ARequestWithABodyCannotUpgrade()
    {
        Exception? refused = null;
        using var http = new InMemoryHttp(ctx =>
        {
            refused = Record.Exception(() => ctx.Upgrader!.Upgrade(new RecordingProtocol()));
            ctx.Response.Text("no");
            return default;
        });
        http.Run(async () => await http.SendAsync("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"u8.ToArray()));
        Assert.IsType<InvalidOperationException>(refused);
        Assert.StartsWith("HTTP/1.1 200 OK", http.OutputText);
    }
}
