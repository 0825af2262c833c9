using System.Net;
using Eddy.Http;
using Eddy.Http.Internal;
using Eddy.Loop;
using Eddy.Selectors;
using Eddy.Transports;

namespace Eddy.Fuzz;

/// <summary>
/// One <see cref="HttpConnection"/> with no socket and no real time (Kestrel's in-memory functional tests,
/// CPython's <c>TestLoop</c>): a loop on a <see cref="ManualClock"/> whose selector never blocks, and a
/// <see cref="MemoryTransport"/> that keeps what the connection writes. A script drives it on the loop
/// thread: it delivers bytes and EOF as a socket transport would, moves the clock, and waits until the
/// loop has nothing left to do, never for real time.
/// <code>
/// using var http = new InMemoryHttp(app);
/// http.Run(async () => { await http.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray()); });
/// Assert.StartsWith("HTTP/1.1 200", http.OutputText);
/// </code>
/// </summary>
internal sealed class InMemoryHttp : IDisposable
{
    private readonly EventLoop _loop;
    private readonly List<Exception> _errors = [];

    public InMemoryHttp(RequestHandler application, HttpServerOptions? options = null)
    {
        Clock = new ManualClock();
        _loop = new EventLoop(new EventLoopOptions { Selector = new NeverBlockingSelector(), TimeProvider = Clock, Name = "in-memory" });
        _loop.ExceptionHandler = (_, context) => _errors.Add(context.Exception ?? new InvalidOperationException(context.Message));
        options ??= new HttpServerOptions();
        Connection = new HttpConnection(_loop, application, options, new HttpHeartbeat(_loop));
        Transport = new MemoryTransport(_loop, Connection);
    }

    public ManualClock Clock { get; }

    public EventLoop Loop => _loop;

    public HttpConnection Connection { get; }

    public MemoryTransport Transport { get; }

    /// <summary>What reached the loop's exception handler (handler failures the connection reported).</summary>
    public IReadOnlyList<Exception> Errors => _errors;

    public byte[] Output => Transport.Output;

    public string OutputText => System.Text.Encoding.Latin1.GetString(Transport.Output);

    /// <summary>Runs <paramref name="script"/> on the loop thread; the connection is made first. Bounded: a script that never ends fails.</summary>
    public void Run(Func<Task> script)
    {
        _loop.Run(async () =>
        {
            Transport.Connect();
            await SettleAsync();
            await script();
            await SettleAsync();
        });
    }

    /// <summary>Delivers <paramref name="data"/> as one read (held while the connection has paused reading), then settles.</summary>
    public Task SendAsync(ReadOnlyMemory<byte> data)
    {
        Transport.Receive(data);
        return SettleAsync();
    }

    /// <summary>The peer's EOF (after everything sent before it), then settles.</summary>
    public Task SendEofAsync()
    {
        Transport.ReceiveEof();
        return SettleAsync();
    }

    /// <summary>Moves the clock (timers and the heartbeat see it), then settles.</summary>
    public Task AdvanceAsync(TimeSpan by)
    {
        Clock.Advance(by);
        return SettleAsync();
    }

    /// <summary>Runs ticks until no callback is ready and no timer is due: everything the last event caused has happened.</summary>
    public async Task SettleAsync()
    {
        for (int ticks = 0; ticks < 100_000; ticks++)
        {
            await Tick();
            if (!_loop.HasDueWork)
            {
                return;
            }
        }
        throw new InvalidOperationException("The in-memory connection never settled: something reschedules itself without end.");
    }

    /// <summary>Completes on the next tick of the loop.</summary>
    private Task Tick()
    {
        var next = new TaskCompletionSource(TaskCreationOptions.None);
        _loop.CallSoon(static s => ((TaskCompletionSource)s!).SetResult(), next);
        return next.Task;
    }

    public void Dispose() => _loop.Dispose();
}

/// <summary>A clock that moves only when told to.</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _ticks = TimeSpan.TicksPerDay;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _ticks;

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(_ticks);

    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}

/// <summary>A selector that reports nothing and never waits: the in-memory loop has no descriptor worth watching.</summary>
internal sealed class NeverBlockingSelector : Selector
{
    public override string Name => "never-blocking";

    protected override void AddToBackend(SelectorKey key)
    {
    }

    protected override void ModifyInBackend(SelectorKey key, Interest interest)
    {
    }

    protected override void RemoveFromBackend(SelectorKey key)
    {
    }

    protected override int SelectCore(Span<SelectorEvent> events, int timeoutMs) => 0;

    protected override void CloseBackend()
    {
    }
}

/// <summary>
/// A transport over memory with a socket transport's contract: reads are delivered only while reading is not
/// paused (in order, EOF last), writes go to <see cref="Output"/> at once unless the peer is set not to read
/// (<see cref="PeerReads"/> false), when they wait in a buffer with the usual high/low-water flow control;
/// <see cref="Close"/> sends what waits first, <see cref="Abort"/> drops it; <see cref="Protocol.ConnectionLost"/>
/// comes once, in a callback of its own.
/// </summary>
internal sealed class MemoryTransport(EventLoop loop, Protocol protocol) : Transport
{
    private static readonly Action<object?> s_deliver = static s => ((MemoryTransport)s!).Deliver();
    private static readonly Action<object?> s_lost = static s => ((MemoryTransport)s!).Lose();

    private readonly MemoryStream _output = new();
    private readonly MemoryStream _unsent = new();
    private readonly Queue<ReadOnlyMemory<byte>?> _incoming = new(); // null: the peer's EOF
    private bool _reading = true;
    private bool _eof;
    private bool _closing;
    private bool _lost;
    private bool _writingPaused;
    private bool _deliveryScheduled;
    private int _high = 64 * 1024;
    private int _low = 16 * 1024;

    public byte[] Output => _output.ToArray();

    public bool IsClosed => _lost;

    /// <summary>The server will send nothing more: it closed, or ended its side (FIN) and lingers for the client's EOF.</summary>
    public bool ServerEnded => _closing || _lost || WroteEof;

    public bool WasAborted { get; private set; }

    public bool WroteEof { get; private set; }

    /// <summary>Whether the peer takes what is written at once. False: writes wait in the write buffer until <see cref="PeerReadsAll"/>.</summary>
    public bool PeerReads { get; set; } = true;

    /// <summary>Bytes handed to the protocol so far (the rest wait "on the wire" while reading is paused).</summary>
    public long Delivered { get; private set; }

    /// <summary>How many times the protocol paused reading.</summary>
    public int ReadPauses { get; private set; }

    public override Protocol Protocol { get; set; } = protocol;

    public void Connect() => Protocol.ConnectionMade(this);

    public void Receive(ReadOnlyMemory<byte> data)
    {
        _incoming.Enqueue(data);
        Deliver();
    }

    public void ReceiveEof()
    {
        _incoming.Enqueue(null);
        Deliver();
    }

    /// <summary>The peer reads everything waiting: it goes to <see cref="Output"/>, and a paused protocol resumes.</summary>
    public void PeerReadsAll()
    {
        _output.Write(_unsent.GetBuffer(), 0, (int)_unsent.Length);
        _unsent.SetLength(0);
        if (_writingPaused)
        {
            _writingPaused = false;
            Protocol.ResumeWriting();
        }
        if (_closing && !_lost)
        {
            loop.CallSoon(s_lost, this);
        }
    }

    private void Deliver()
    {
        _deliveryScheduled = false;
        while (_reading && !_closing && _incoming.Count > 0)
        {
            ReadOnlyMemory<byte>? next = _incoming.Dequeue();
            if (next is { } data)
            {
                if (!data.IsEmpty)
                {
                    Delivered += data.Length;
                    Protocol.DataReceived(data.Span);
                }
            }
            else
            {
                _reading = false;
                _eof = true;
                if (!Protocol.EofReceived())
                {
                    Close();
                }
            }
        }
    }

    /// <summary>How many non-empty writes the protocol made (each would be a send(2) on a socket).</summary>
    public int Writes { get; private set; }

    public override void Write(ReadOnlySpan<byte> data)
    {
        if (_lost || data.IsEmpty)
        {
            return;
        }
        Writes++;
        if (WroteEof)
        {
            throw new InvalidOperationException("Write after WriteEof.");
        }
        if (PeerReads)
        {
            _output.Write(data);
            return;
        }
        _unsent.Write(data);
        if (!_writingPaused && _unsent.Length > _high)
        {
            _writingPaused = true;
            Protocol.PauseWriting();
        }
    }

    public override void WriteEof() => WroteEof = true;

    public override void Close()
    {
        if (_closing)
        {
            return;
        }
        _closing = true;
        if (_unsent.Length == 0)
        {
            loop.CallSoon(s_lost, this);
        }
    }

    public override void Abort()
    {
        if (_lost)
        {
            return;
        }
        WasAborted = true;
        _unsent.SetLength(0);
        if (!_closing)
        {
            _closing = true;
            loop.CallSoon(s_lost, this);
        }
        else if (!_lost)
        {
            loop.CallSoon(s_lost, this);
        }
    }

    private void Lose()
    {
        if (_lost)
        {
            return;
        }
        _lost = true;
        Protocol.ConnectionLost(null);
    }

    public override bool IsClosing => _closing;

    public override void PauseReading()
    {
        if (_reading)
        {
            ReadPauses++;
        }
        _reading = false;
    }

    public override void ResumeReading()
    {
        if (_closing || _reading || _eof)
        {
            return;
        }
        _reading = true;
        if (_incoming.Count > 0 && !_deliveryScheduled)
        {
            _deliveryScheduled = true;
            loop.CallSoon(s_deliver, this); // as a socket transport: the next read comes in a callback of its own
        }
    }

    public override bool IsReading => _reading && !_closing;

    public override int WriteBufferSize => (int)_unsent.Length;

    public override int WriteBufferHighWaterMark => _high;

    public override int WriteBufferLowWaterMark => _low;

    public override void SetWriteBufferLimits(int high, int? low = null)
    {
        _high = high;
        _low = low ?? high / 4;
    }

    public override EndPoint? LocalEndPoint => new IPEndPoint(IPAddress.Loopback, 8080);

    public override EndPoint? RemoteEndPoint => new IPEndPoint(IPAddress.Loopback, 40000);
}
