using System.Net;
using System.Net.WebSockets;
using BenchmarkDotNet.Attributes;
using Eddy.Http.Internal;
using Eddy.Loop;
using Eddy.Transports;
using Eddy.WebSockets;
using Eddy.WebSockets.Internal;

namespace Eddy.Microbenchmarks;

/// <summary>
/// Issue 15's question — build the framing or run the BCL's <c>WebSocket.CreateFromStream</c> over the loop's
/// transport? — measured without the kernel: an echo server's cost per message, receive then send, for 32-byte
/// and 16 KiB binary messages (masked, as a client sends them). <c>Eddy</c>: a real <see cref="WebSocketConnection"/>
/// fed one read of 16 messages through its protocol's <c>DataReceived</c>, with an echo handler awaiting on the
/// loop's context (its continuations run inline, as on the loop); the echoes go to a counting transport.
/// <c>Bcl</c>: <c>WebSocket.CreateFromStream</c> (server) over an in-memory stream that returns the same 16
/// messages and counts what is written — the BCL's lower bound: over a TransportStream it would pay that stream's
/// costs too. Figures are per message; Allocated is the number that must stay 0 for Eddy.
/// </summary>
[MemoryDiagnoser]
public class WebSocketEchoBenchmarks
{
    private const int Messages = 16;

    private readonly EventLoop _loop = new();
    private byte[] _batch = [];
    private CountingTransport _transport = null!;
    private WebSocketConnection _eddy = null!;
    private WebSocket _bcl = null!;
    private FeedStream _stream = null!;
    private byte[] _buffer = [];

    /// <summary>The message size: a game or chat update, and a large binary message.</summary>
    [Params(32, 16 * 1024)]
    public int Size { get; set; } = 32;

    [GlobalSetup]
    public void Setup()
    {
        byte[] payload = new byte[Size];
        var frame = new byte[WebSocketFrameWriter.MaxHeaderLength + Size];
        int header = WebSocketFrameWriter.WriteHeader(frame, WebSocketOpcode.Binary, fin: true, Size, maskKey: 0x12345678);
        WebSocketMask.Apply(payload, frame.AsSpan(header), 0x12345678, 0);
        _batch = [.. Enumerable.Repeat(frame[..(header + Size)], Messages).SelectMany(f => f)];
        _buffer = new byte[16 * 1024];

        var options = new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero, MaxMessageSize = null };
        _eddy = new WebSocketConnection(_loop, options, new HttpHeartbeat(_loop), isServer: true, subProtocol: null);
        _transport = new CountingTransport { Protocol = _eddy.Protocol };
        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_loop.SynchronizationContext);
        try
        {
            _eddy.Protocol.ConnectionMade(_transport);
            _ = EchoAsync(_eddy, new byte[16 * 1024]);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        _stream = new FeedStream();
        _bcl = WebSocket.CreateFromStream(_stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        if (Eddy() == 0 || Bcl() == 0)
        {
            throw new InvalidOperationException("Nothing was echoed.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _loop.Dispose();

    private static async Task EchoAsync(WebSocketConnection webSocket, byte[] buffer)
    {
        while (true)
        {
            ValueWebSocketReceiveResult received = await webSocket.ReceiveAsync(buffer);
            await webSocket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage);
        }
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public int Eddy()
    {
        _eddy.Protocol.DataReceived(_batch); // the echo handler runs inline for each message
        return _transport.BytesWritten;
    }

    [Benchmark(OperationsPerInvoke = Messages, Baseline = true)]
    public int Bcl()
    {
        _stream.Feed(_batch);
        for (int i = 0; i < Messages; i++)
        {
            ValueWebSocketReceiveResult received;
            do
            {
                ValueTask<ValueWebSocketReceiveResult> receive = _bcl.ReceiveAsync(_buffer.AsMemory(), CancellationToken.None);
                received = receive.IsCompletedSuccessfully ? receive.Result : receive.AsTask().GetAwaiter().GetResult();
                ValueTask send = _bcl.SendAsync(_buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, CancellationToken.None);
                if (!send.IsCompletedSuccessfully)
                {
                    send.AsTask().GetAwaiter().GetResult();
                }
            }
            while (!received.EndOfMessage);
        }
        return _stream.BytesWritten;
    }

    /// <summary>A stream whose reads return what was fed (synchronously) and whose writes are only counted.</summary>
    private sealed class FeedStream : Stream
    {
        private byte[] _data = [];
        private int _offset;
        public int BytesWritten;

        public void Feed(byte[] data)
        {
            _data = data;
            _offset = 0;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = Math.Min(buffer.Length, _data.Length - _offset);
            if (n == 0)
            {
                throw new InvalidOperationException("The benchmark's stream ran dry.");
            }
            _data.AsSpan(_offset, n).CopyTo(buffer.Span);
            _offset += n;
            return new ValueTask<int>(n);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            BytesWritten += buffer.Length;
            return default;
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).GetAwaiter().GetResult();

        public override void Write(byte[] buffer, int offset, int count) => BytesWritten += count;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
