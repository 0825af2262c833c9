using System.Diagnostics;
using System.Text;
using Eddy.Internal;
using Eddy.Loop;
using Eddy.Streams.Internal;
using Eddy.Transports;

namespace Eddy.Streams;

/// <summary>
/// The read side of a stream connection (asyncio's <c>StreamReader</c>): bytes the connection delivers
/// are buffered here until a read takes them. Loop thread only; every read's continuation resumes on the
/// loop thread.
/// <para>
/// Reads: <see cref="ReadAsync"/> (what is there, 0 at the end), <see cref="ReadExactlyAsync"/>,
/// <see cref="ReadUntilAsync"/> (up to and including a separator) and <see cref="ReadLineAsync"/> (a UTF-8
/// line without its terminator). One read may be pending at a time. A read that the buffer can satisfy
/// completes synchronously and allocates nothing; a read that waits allocates nothing either once the
/// reader has waited once (its completion source is reused).
/// </para>
/// <para>
/// Producer side, in order: <c>[FeedData*] [FeedEof | SetException]</c> — called by the connection's
/// protocol, or by code that feeds the reader from elsewhere.
/// </para>
/// <para>
/// Flow control: when more than twice <see cref="Limit"/> bytes are buffered, the reader of a connection
/// pauses its transport's reading, so TCP flow control slows the peer; reading resumes once reads drain
/// the buffer to <see cref="Limit"/> bytes, or when a read has to wait. (A reader made with the public
/// constructor has no transport: it only buffers.)
/// </para>
/// </summary>
public sealed class AsyncStreamReader
{
    /// <summary>The default <see cref="Limit"/>: 64 KiB, as asyncio's.</summary>
    public const int DefaultLimit = 64 * 1024;

    private static readonly byte[] s_newline = [(byte)'\n'];

    private static readonly Action<object?, CancellationToken> s_onCancel = static (s, _) => ((AsyncStreamReader)s!).OnCancel();
    private static readonly Action<object?> s_onCancelOnLoop = static s => ((AsyncStreamReader)s!).OnCancelOnLoop();

    private readonly EventLoop _loop;
    private int _limit;

    // The bytes waiting for a read. Its array is rented when bytes must wait and returned as soon as reads
    // drain it (Consume), so an idle connection holds no buffer.
    private readonly ByteBuffer _buffer = new();

    private bool _eof;
    private Exception? _exception;
    private Transport? _transport;
    private bool _paused; // we paused _transport's reading

    // The arguments of the read in progress; cleared before its completion source fires.
    private Memory<byte> _destination;       // Read, ReadExactly
    private int _filled;                     // Read, ReadExactly: bytes already copied into _destination
    private ReadOnlyMemory<byte> _separator; // ReadUntil, ReadLine
    private int _searchFrom;                 // ReadUntil, ReadLine: where in the buffer the next search starts

    // asyncio's shape: each read is a short loop — one pass of its try (TryRead, TryReadExactly, TryReadUntil,
    // TryReadLine) finishes it from the buffer, else it waits for data and makes the pass again — and every read
    // waits in one place, WaitForData (asyncio's _wait_for_data), on one reused completion source. FeedData,
    // FeedEof and SetException wake the waiting read (WakeUpWaiter, asyncio's _wakeup_waiter). The loops are
    // hand-written rather than async methods: a compiler-built state machine is a class in a Debug build (an
    // allocation per read), and the pooling builder's box would post the caller's continuation to the loop's
    // context (an allocation and a tick) where the reader's own source runs it inline.
    //
    // The one waiter: the read waiting for data (at most one), the source its ValueTask is on, its token.
    private ReadKind _waiting;
    private ReadWaiter? _waiter;
    private CancellationToken _token;
    private CancellationTokenRegistration _registration;

    private enum ReadKind : byte
    {
        None,
        Read,
        ReadExactly,
        ReadUntil,
        ReadLine,
    }

    private enum Search : byte
    {
        NotYet,
        Found,
        FoundPastLimit,
        NotFoundWithinLimit,
    }

    /// <summary>Creates a reader for <paramref name="loop"/>; reads must be made on that loop's thread.</summary>
    public AsyncStreamReader(EventLoop loop, int limit = DefaultLimit)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        _loop = loop;
        _limit = limit;
    }

    /// <summary>
    /// The longest chunk <see cref="ReadUntilAsync"/> and <see cref="ReadLineAsync"/> accept, and half the
    /// buffered size at which the transport's reading is paused. Set it before the first read (a server's
    /// client-connected callback runs before any byte is read).
    /// </summary>
    public int Limit
    {
        get => _limit;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            _limit = value;
            MaybePauseTransport();
            MaybeResumeTransport();
        }
    }

    /// <summary>True when the end of the stream was fed and every buffered byte has been read (asyncio's <c>at_eof()</c>).</summary>
    public bool AtEof => _eof && _buffer.IsEmpty;

    /// <summary>Why the connection failed, or null. Once set, pending and later reads throw it.</summary>
    public Exception? Exception => _exception;

    /// <summary>How many bytes are buffered, waiting for a read.</summary>
    public int BufferedCount => _buffer.Length;

    internal EventLoop Loop => _loop;

    /// <summary>
    /// Reads what is buffered, up to <paramref name="buffer"/>.Length bytes, waiting for data when none is.
    /// Returns 0 at the end of the stream. A zero-length <paramref name="buffer"/> waits until data is
    /// buffered (or the stream ends) and consumes nothing, as a zero-byte socket receive does.
    /// </summary>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckCanStart(nameof(ReadAsync));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }
        _destination = buffer;
        return TryRead(out int count, out Exception? error)
            ? Finished(count, error)
            : WaitForData(ReadKind.Read, cancellationToken, out short token).CountTask(token);
    }

    /// <summary>
    /// Fills <paramref name="buffer"/> exactly. If the stream ends first, throws an
    /// <see cref="IncompleteReadException"/> carrying the bytes that arrived (they are consumed).
    /// If cancelled, the bytes already copied into <paramref name="buffer"/> are put back into the reader.
    /// </summary>
    public ValueTask ReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckCanStart(nameof(ReadExactlyAsync));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        _destination = buffer;
        return TryReadExactly(out Exception? error)
            ? Finished(error)
            : WaitForData(ReadKind.ReadExactly, cancellationToken, out short token).FilledTask(token);
    }

    /// <summary>
    /// Reads up to and including <paramref name="separator"/> and returns those bytes (a new array,
    /// separator included, as asyncio's <c>readuntil</c>).
    /// <list type="bullet">
    /// <item>If the stream ends first, throws an <see cref="IncompleteReadException"/> carrying what was buffered (consumed).</item>
    /// <item>If more than <see cref="Limit"/> bytes come before the separator, or none is found within
    /// <see cref="Limit"/> bytes, throws a <see cref="LimitOverrunException"/> and leaves the bytes buffered,
    /// for <see cref="ReadAsync"/> to take.</item>
    /// </list>
    /// </summary>
    public ValueTask<byte[]> ReadUntilAsync(ReadOnlyMemory<byte> separator, CancellationToken cancellationToken = default)
    {
        if (separator.IsEmpty)
        {
            throw new ArgumentException("The separator must contain at least one byte.", nameof(separator));
        }
        CheckCanStart(nameof(ReadUntilAsync));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<byte[]>(cancellationToken);
        }
        _separator = separator;
        _searchFrom = 0;
        return TryReadUntil(out byte[]? chunk, out Exception? error)
            ? Finished(chunk!, error)
            : WaitForData(ReadKind.ReadUntil, cancellationToken, out short token).ChunkTask(token);
    }

    /// <summary>
    /// Reads a line and decodes it as UTF-8 (invalid bytes become U+FFFD). As with
    /// <see cref="TextReader.ReadLineAsync()"/>, the line is returned without its terminator: lines end at
    /// "\n", and a "\r" just before it is dropped too. At the end of the stream, returns the last,
    /// unterminated line if there is one, then null.
    /// <para>
    /// A line longer than <see cref="Limit"/> throws a <see cref="LimitOverrunException"/>, after discarding
    /// what was buffered of it (through its "\n" if that arrived), as asyncio's <c>readline</c> does: the
    /// next call starts after the discarded bytes.
    /// </para>
    /// </summary>
    public ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken = default)
    {
        CheckCanStart(nameof(ReadLineAsync));
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<string?>(cancellationToken);
        }
        _separator = s_newline;
        _searchFrom = 0;
        return TryReadLine(out string? line, out Exception? error)
            ? Finished(line, error)
            : WaitForData(ReadKind.ReadLine, cancellationToken, out short token).LineTask(token);
    }

    /// <summary>Adds bytes to the buffer, completing a pending read that they satisfy. Not after <see cref="FeedEof"/>.</summary>
    public void FeedData(ReadOnlySpan<byte> data)
    {
        CheckLoopThread(nameof(FeedData));
        if (_eof)
        {
            throw new InvalidOperationException("FeedData was called after FeedEof.");
        }
        if (data.IsEmpty)
        {
            return;
        }
        // A read waiting with room in its destination (Read, ReadExactly) takes the bytes straight into it while
        // nothing is buffered: one copy, not two.
        if (_waiting != ReadKind.None && _buffer.IsEmpty && _filled < _destination.Length)
        {
            Span<byte> room = _destination.Span[_filled..];
            int n = Math.Min(room.Length, data.Length);
            data[..n].CopyTo(room);
            _filled += n;
            data = data[n..];
        }
        if (!data.IsEmpty)
        {
            _buffer.Append(data);
            MaybePauseTransport();
        }
        WakeUpWaiter();
    }

    /// <summary>Marks the end of the stream: buffered bytes can still be read, then reads return 0 (or null). Idempotent.</summary>
    public void FeedEof()
    {
        CheckLoopThread(nameof(FeedEof));
        _eof = true;
        WakeUpWaiter();
    }

    /// <summary>Fails the stream: a pending read and every later read throw <paramref name="error"/>.</summary>
    public void SetException(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        CheckLoopThread(nameof(SetException));
        _exception = error;
        WakeUpWaiter();
    }

    /// <summary>The transport whose reading the reader pauses when its buffer is full. Set once, by the protocol.</summary>
    internal void SetTransport(Transport transport)
    {
        Debug.Assert(_transport is null, "the reader's transport is set once");
        _transport = transport;
    }

    /// <summary>For logs: how many bytes are buffered, and whether the stream ended, is paused or failed.</summary>
    public override string ToString() =>
        $"AsyncStreamReader({BufferedCount} bytes buffered{(_eof ? ", eof" : "")}{(_paused ? ", paused" : "")}{(_exception is null ? "" : ", failed")})";

    // The four reads' loops, one pass each: true when the read is over, with its result or its error (the
    // stream's error first, then what the buffer holds, then the end of the stream); false when it must wait.

    private bool TryRead(out int count, out Exception? error)
    {
        count = 0;
        error = _exception;
        if (error is not null)
        {
            return true;
        }
        FillDestination();
        if (_filled > 0 || (_destination.IsEmpty && !_buffer.IsEmpty))
        {
            count = _filled;
            return true;
        }
        return _eof;
    }

    private bool TryReadExactly(out Exception? error)
    {
        error = _exception;
        if (error is not null)
        {
            return true;
        }
        FillDestination();
        if (_filled == _destination.Length)
        {
            return true;
        }
        if (_eof)
        {
            error = new IncompleteReadException(_destination[.._filled].ToArray(), _destination.Length);
            return true;
        }
        return false;
    }

    private bool TryReadUntil(out byte[]? chunk, out Exception? error)
    {
        chunk = null;
        error = _exception;
        if (error is not null)
        {
            return true;
        }
        Search search = FindSeparator(out int offset);
        switch (search)
        {
            case Search.Found:
                int length = offset + _separator.Length;
                chunk = _buffer.Span[..length].ToArray();
                Consume(length);
                return true;
            case Search.FoundPastLimit:
            case Search.NotFoundWithinLimit:
                // The bytes stay buffered: the caller may still take them with ReadAsync.
                error = new LimitOverrunException(_limit, offset, separatorFound: search == Search.FoundPastLimit);
                return true;
        }
        if (_eof)
        {
            byte[] partial = _buffer.Span.ToArray();
            Consume(partial.Length);
            error = new IncompleteReadException(partial, expected: null);
            return true;
        }
        return false;
    }

    private bool TryReadLine(out string? line, out Exception? error)
    {
        line = null;
        error = _exception;
        if (error is not null)
        {
            return true;
        }
        switch (FindSeparator(out int offset))
        {
            case Search.Found:
                line = Decode(offset);
                Consume(offset + 1);
                return true;
            case Search.FoundPastLimit:
                Consume(offset + 1);
                error = new LimitOverrunException(_limit, offset, separatorFound: true);
                return true;
            case Search.NotFoundWithinLimit:
                Consume(BufferedCount);
                error = new LimitOverrunException(_limit, offset, separatorFound: false);
                return true;
        }
        if (_eof && !_buffer.IsEmpty)
        {
            line = Encoding.UTF8.GetString(_buffer.Span);
            Consume(_buffer.Length);
            return true;
        }
        return _eof;
    }

    /// <summary>
    /// Searches the buffer for the separator, starting where the last search stopped (less the
    /// separator's length, as it may straddle two arrivals), so a long line is scanned once, not once per
    /// arrival. <paramref name="offset"/> is where the separator starts when found, else how far the
    /// search got (asyncio's <c>consumed</c>).
    /// </summary>
    private Search FindSeparator(out int offset)
    {
        ReadOnlySpan<byte> separator = _separator.Span;
        ReadOnlySpan<byte> buffered = _buffer.Span;
        if (buffered.Length - _searchFrom >= separator.Length)
        {
            int i = buffered[_searchFrom..].IndexOf(separator);
            if (i >= 0)
            {
                offset = _searchFrom + i;
                return offset > _limit ? Search.FoundPastLimit : Search.Found;
            }
            _searchFrom = buffered.Length - separator.Length + 1;
        }
        offset = _searchFrom;
        return _searchFrom > _limit ? Search.NotFoundWithinLimit : Search.NotYet;
    }

    /// <summary>The line before the "\n" at <paramref name="newline"/>, without a "\r" just before it.</summary>
    private string Decode(int newline)
    {
        ReadOnlySpan<byte> buffered = _buffer.Span;
        int length = newline > 0 && buffered[newline - 1] == (byte)'\r' ? newline - 1 : newline;
        return Encoding.UTF8.GetString(buffered[..length]);
    }

    /// <summary>Moves buffered bytes into the pending read's destination.</summary>
    private void FillDestination()
    {
        int n = Math.Min(_buffer.Length, _destination.Length - _filled);
        if (n > 0)
        {
            _buffer.Span[..n].CopyTo(_destination.Span[_filled..]);
            _filled += n;
            Consume(n);
        }
    }

    private void Consume(int count)
    {
        _buffer.Consume(count);
        if (_buffer.IsEmpty)
        {
            _buffer.Release();
        }
        MaybeResumeTransport();
    }

    private void MaybePauseTransport()
    {
        if (!_paused && _transport is not null && _buffer.Length > 2L * _limit)
        {
            _paused = true;
            _transport.PauseReading();
        }
    }

    private void MaybeResumeTransport()
    {
        if (_paused && _buffer.Length <= _limit)
        {
            _paused = false;
            _transport!.ResumeReading();
        }
    }

    /// <summary>
    /// asyncio's <c>_wait_for_data</c>: <paramref name="read"/>, which its try could not finish, becomes the one
    /// waiting read, on the reader's one completion source, which it returns with the token of the read's ValueTask.
    /// </summary>
    private ReadWaiter WaitForData(ReadKind read, CancellationToken cancellationToken, out short token)
    {
        ReadWaiter waiter = ReadWaiter.Rent(ref _waiter, _loop);
        token = waiter.Start();
        _waiting = read;
        _token = cancellationToken;
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(s_onCancel, this);
        }
        // A read that waits with reading paused would wait forever (a Limit lowered meanwhile can do that).
        if (_paused)
        {
            _paused = false;
            _transport!.ResumeReading();
        }
        return waiter;
    }

    /// <summary>
    /// asyncio's <c>_wakeup_waiter</c>, after data, the end of the stream or an error arrived: the waiting read
    /// makes its pass again, and finishes if it can. The one place that knows the four waiting reads apart.
    /// </summary>
    private void WakeUpWaiter()
    {
        bool finished;
        int count = 0;
        object? result = null;
        Exception? error;
        switch (_waiting)
        {
            case ReadKind.Read:
                finished = TryRead(out count, out error);
                break;
            case ReadKind.ReadExactly:
                finished = TryReadExactly(out error);
                break;
            case ReadKind.ReadUntil:
                finished = TryReadUntil(out byte[]? chunk, out error);
                result = chunk;
                break;
            case ReadKind.ReadLine:
                finished = TryReadLine(out string? line, out error);
                result = line;
                break;
            default:
                return;
        }
        if (finished)
        {
            // Last: the read's continuation runs inline, and may start the next read.
            ReadWaiter waiter = _waiter!;
            StopWaiting();
            waiter.Finish(count, result, error);
        }
    }

    /// <summary>A read that did not wait: its result, or its error, as a completed ValueTask.</summary>
    private ValueTask<T> Finished<T>(T result, Exception? error)
    {
        ClearArguments();
        return error is null ? new ValueTask<T>(result) : ValueTask.FromException<T>(error);
    }

    /// <inheritdoc cref="Finished{T}(T, Exception?)"/>
    private ValueTask Finished(Exception? error)
    {
        ClearArguments();
        return error is null ? default : ValueTask.FromException(error);
    }

    /// <summary>Clears the waiting read's state, before its completion source fires.</summary>
    private void StopWaiting()
    {
        _waiting = ReadKind.None;
        _registration.Unregister(); // not Dispose: that would wait for a callback running on another thread
        _registration = default;
        _token = default;
        ClearArguments();
    }

    private void ClearArguments()
    {
        _destination = default; // drop the caller's memory
        _filled = 0;
        _separator = default;
        _searchFrom = 0;
    }

    private void OnCancel() => _loop.RunOnLoop(s_onCancelOnLoop, this);

    private void OnCancelOnLoop()
    {
        // The read that registered may be over, and another one started, by the time this runs.
        if (_waiting == ReadKind.None || !_token.IsCancellationRequested)
        {
            return;
        }
        var canceled = new OperationCanceledException(_token);
        if (_filled > 0)
        {
            // Only a waiting ReadExactly holds bytes (a Read that has any is finished): it drained the buffer into
            // its destination. Put them back so cancelling loses nothing (asyncio's readexactly consumes only on
            // success, too).
            Debug.Assert(_waiting == ReadKind.ReadExactly && _buffer.IsEmpty);
            _buffer.Append(_destination.Span[.._filled]);
            MaybePauseTransport();
        }
        ReadWaiter waiter = _waiter!;
        StopWaiting();
        waiter.SetException(canceled);
    }

    private void CheckCanStart(string operation)
    {
        CheckLoopThread(operation);
        if (_waiting != ReadKind.None)
        {
            throw new InvalidOperationException($"{operation}: another read ({_waiting}) is already pending on this reader; await it before starting the next.");
        }
    }

    private void CheckLoopThread(string operation)
    {
        if (_loop.Debug)
        {
            _loop.CheckLoopCall(operation);
        }
    }
}
