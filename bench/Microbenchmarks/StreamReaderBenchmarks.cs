using BenchmarkDotNet.Attributes;
using Eddy.Loop;
using Eddy.Streams;

namespace Eddy.Microbenchmarks;

/// <summary>
/// <see cref="AsyncStreamReader"/>'s reads as a connection makes them when the peer is slower than the reader:
/// every read finds the buffer empty and waits, and <c>FeedData</c> (the protocol's <c>DataReceived</c>)
/// completes it. A consumer on the loop's synchronization context awaits each read and starts the next in its
/// continuation, as code on the loop does; the continuation runs inline, inside <c>FeedData</c>. Figures are
/// per read. <c>Buffered</c> is the other case: the bytes are there before the read, which completes at once.
/// <para>
/// Allocated must stay 0 for <c>Read</c> and <c>ReadExactly</c> (a waiting read allocates nothing), and for
/// <c>ReadUntil</c>/<c>ReadLine</c> only the result (the array, the string) may be allocated.
/// </para>
/// </summary>
[MemoryDiagnoser]
public class StreamReaderBenchmarks
{
    /// <summary>Reads per invocation.</summary>
    public const int Reads = 100;

    private static readonly byte[] s_chunk = new byte[32];
    private static readonly byte[] s_half = new byte[16];
    private static readonly byte[] s_separator = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] s_headStart = "GET / HTTP/1.1\r\nHost: a\r\n"u8.ToArray();
    private static readonly byte[] s_headEnd = "\r\n"u8.ToArray();
    private static readonly byte[] s_lineStart = "hello, "u8.ToArray();
    private static readonly byte[] s_lineEnd = "line\r\n"u8.ToArray();
    private static readonly byte[] s_lines = [.. Enumerable.Repeat("hello, line\r\n"u8.ToArray(), Reads).SelectMany(line => line)];

    private readonly EventLoop _loop = new();
    private readonly CancellationTokenSource _cancellation = new();
    private Consumer _read = null!;
    private Consumer _readExactly = null!;
    private Consumer _readUntil = null!;
    private Consumer _readLine = null!;
    private AsyncStreamReader _buffered = null!;

    /// <summary>Whether the reads take a cancellable token (each wait then registers with it).</summary>
    [Params(false, true)]
    public bool Cancellable { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        CancellationToken token = Cancellable ? _cancellation.Token : default;
        using (OnLoopContext())
        {
            _read = Consumer.Start(_loop, async (reader, consumer) =>
            {
                byte[] buffer = new byte[64];
                while (true)
                {
                    consumer.Count += await reader.ReadAsync(buffer, token);
                }
            });
            _readExactly = Consumer.Start(_loop, async (reader, consumer) =>
            {
                byte[] buffer = new byte[32];
                while (true)
                {
                    await reader.ReadExactlyAsync(buffer, token);
                    consumer.Count += buffer.Length;
                }
            });
            _readUntil = Consumer.Start(_loop, async (reader, consumer) =>
            {
                while (true)
                {
                    consumer.Count += (await reader.ReadUntilAsync(s_separator, token)).Length;
                }
            });
            _readLine = Consumer.Start(_loop, async (reader, consumer) =>
            {
                while (true)
                {
                    consumer.Count += (await reader.ReadLineAsync(token))!.Length;
                }
            });
        }
        _buffered = new AsyncStreamReader(_loop);
    }

    [GlobalCleanup]
    public void Cleanup() => _loop.Dispose();

    /// <summary><c>ReadAsync</c>: each 32-byte arrival completes the waiting read (straight into its buffer).</summary>
    [Benchmark(OperationsPerInvoke = Reads)]
    public int Read()
    {
        using LoopContext context = OnLoopContext();
        for (int i = 0; i < Reads; i++)
        {
            _read.Reader.FeedData(s_chunk);
        }
        return _read.CheckedCount();
    }

    /// <summary><c>ReadExactlyAsync</c> of 32 bytes arriving as two halves: the read waits twice.</summary>
    [Benchmark(OperationsPerInvoke = Reads)]
    public int ReadExactly()
    {
        using LoopContext context = OnLoopContext();
        for (int i = 0; i < Reads; i++)
        {
            _readExactly.Reader.FeedData(s_half);
            _readExactly.Reader.FeedData(s_half);
        }
        return _readExactly.CheckedCount();
    }

    /// <summary><c>ReadUntilAsync("\r\n\r\n")</c> of a request head arriving in two pieces, the separator split between them.</summary>
    [Benchmark(OperationsPerInvoke = Reads)]
    public int ReadUntil()
    {
        using LoopContext context = OnLoopContext();
        for (int i = 0; i < Reads; i++)
        {
            _readUntil.Reader.FeedData(s_headStart);
            _readUntil.Reader.FeedData(s_headEnd);
        }
        return _readUntil.CheckedCount();
    }

    /// <summary><c>ReadLineAsync</c> of a line arriving in two pieces.</summary>
    [Benchmark(OperationsPerInvoke = Reads)]
    public int ReadLine()
    {
        using LoopContext context = OnLoopContext();
        for (int i = 0; i < Reads; i++)
        {
            _readLine.Reader.FeedData(s_lineStart);
            _readLine.Reader.FeedData(s_lineEnd);
        }
        return _readLine.CheckedCount();
    }

    /// <summary><c>ReadLineAsync</c> of lines that are all buffered already: each read completes synchronously.</summary>
    [Benchmark(OperationsPerInvoke = Reads)]
    public int Buffered()
    {
        CancellationToken token = Cancellable ? _cancellation.Token : default;
        _buffered.FeedData(s_lines);
        int count = 0;
        for (int i = 0; i < Reads; i++)
        {
            ValueTask<string?> line = _buffered.ReadLineAsync(token);
            count += line.Result!.Length;
        }
        return count;
    }

    /// <summary>The loop's synchronization context, current while the loop runs a callback; restored on dispose.</summary>
    private LoopContext OnLoopContext()
    {
        var context = new LoopContext(SynchronizationContext.Current);
        SynchronizationContext.SetSynchronizationContext(_loop.SynchronizationContext);
        return context;
    }

    private readonly struct LoopContext(SynchronizationContext? previous) : IDisposable
    {
        public void Dispose() => SynchronizationContext.SetSynchronizationContext(previous);
    }

    /// <summary>A reader and the coroutine that reads it forever; the coroutine's first read is waiting when Start returns.</summary>
    private sealed class Consumer
    {
        private Consumer(AsyncStreamReader reader) => Reader = reader;

        public AsyncStreamReader Reader { get; }

        public int Count;

        public Task Running { get; private set; } = Task.CompletedTask;

        /// <summary>The bytes read so far; throws if the coroutine has stopped (then the reads were not measured).</summary>
        public int CheckedCount() => Running.IsCompleted
            ? throw new InvalidOperationException("The consumer stopped reading.", Running.Exception)
            : Count;

        public static Consumer Start(EventLoop loop, Func<AsyncStreamReader, Consumer, Task> read)
        {
            var consumer = new Consumer(new AsyncStreamReader(loop));
            consumer.Running = read(consumer.Reader, consumer);
            if (consumer.Running.IsCompleted)
            {
                throw new InvalidOperationException("The consumer did not wait for data: the benchmark would measure nothing.", consumer.Running.Exception);
            }
            return consumer;
        }
    }
}
