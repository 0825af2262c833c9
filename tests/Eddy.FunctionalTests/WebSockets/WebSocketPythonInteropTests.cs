using System.Diagnostics;
using Eddy.Cli.Serve;
using Eddy.FunctionalTests.Http;

namespace Eddy.FunctionalTests.WebSockets;

/// <summary>
/// Interop with a WebSocket implementation that is not .NET's: Python's <c>websockets</c> (Debian package
/// python3-websockets, installed by .ci/run) as a client of <c>/ws/echo</c> — text, binary, fragmented, a 1 MiB
/// message, ping/pong, the subprotocol, and the close handshake with a code — all with permessage-deflate, which
/// websockets offers by default; and once more with a 512-byte window asked for the server's messages (agreed, and
/// messages either side of it echoed; zlib cannot tell a reference beyond the window inside one message, so which
/// messages go compressed is checked in WebSocketCompressionTests).
/// </summary>
public sealed class WebSocketPythonInteropTests
{
    private const string Script = """
        import asyncio, os, random, string, sys
        import websockets
        from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

        async def main(uri):
            async with websockets.connect(uri, subprotocols=["chat", "echo"], max_size=None, ping_interval=None) as ws:
                assert ws.subprotocol == "echo", ws.subprotocol
                assert [e.name for e in ws.extensions] == ["permessage-deflate"], ws.extensions
                text = "the same words, again and again; " * 60000  # ~2 MiB that compress well, both ways
                await ws.send(text)
                assert await ws.recv() == text
                await ws.send("héllo 👋")
                assert await ws.recv() == "héllo 👋"
                data = os.urandom(1000)
                await ws.send(data)
                assert await ws.recv() == data
                await ws.send(["frag", "men", "ted"])        # one message in three frames
                assert await ws.recv() == "fragmented"
                big = os.urandom(1 << 20)
                await ws.send(big)
                assert await ws.recv() == big
                pong = await ws.ping(b"are you there")
                await asyncio.wait_for(pong, 10)
                await ws.close(code=4000, reason="done")
                assert ws.close_code == 4000, ws.close_code
            small_window = ClientPerMessageDeflateFactory(server_max_window_bits=9)
            async with websockets.connect(uri, compression=None, extensions=[small_window], max_size=None, ping_interval=None) as ws:
                assert ws.extensions[0].remote_max_window_bits == 9, vars(ws.extensions[0])
                letters = random.Random(7)
                for size in (100, 300, 512, 513, 5000, 300):
                    half = "".join(letters.choice(string.ascii_letters) for _ in range(size // 2))
                    message = (half + half + "x")[:size]
                    await ws.send(message)
                    assert await ws.recv() == message, size
            print("ok")

        asyncio.run(main(sys.argv[1]))
        """;

    [Fact]
    public async Task PythonWebsocketsTalksToTheEchoEndpoint()
    {
        using var server = new HttpTestServer(DemoApp.Create(DemoApp.DefaultStaticFolder));
        // The Debian interpreter (where python3-websockets is installed), not whatever python3 is first on PATH.
        string python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(python, ["-c", Script, $"ws://{server.EndPoint}/ws/echo"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"python exited with {process.ExitCode}: {await errors}");
        Assert.Equal("ok", (await output).Trim());
        Assert.Empty(server.Errors);
    }
}
