using System.Threading.Tasks.Sources;
using Eddy.Loop;

namespace Eddy.Streams.Internal;

/// <summary>
/// The one completion source an <see cref="AsyncStreamReader"/> waits on, whatever the read (asyncio's
/// <c>_waiter</c>): a count for <c>ReadAsync</c>, nothing for <c>ReadExactlyAsync</c>, the chunk of
/// <c>ReadUntilAsync</c> or the line of <c>ReadLineAsync</c>. It is all four kinds of ValueTask source over one
/// core that completes with an int; a chunk or a line waits in a field until the awaiter takes it, so no
/// result is boxed. Reused from one read to the next (see <see cref="StreamOperation{T}.Rent"/>).
/// </summary>
internal sealed class ReadWaiter : StreamOperation<int>, IValueTaskSource<byte[]>, IValueTaskSource<string?>
{
    private object? _result; // the chunk or line of the completed read, until the awaiter takes it

    private ReadWaiter(EventLoop loop) : base(loop)
    {
    }

    /// <summary>Returns <paramref name="waiter"/> if it is free, else a new one (a caller dropped a ValueTask without awaiting it).</summary>
    public static ReadWaiter Rent(ref ReadWaiter? waiter, EventLoop loop) =>
        waiter is { IsInUse: false } ? waiter : waiter = new ReadWaiter(loop);

    /// <summary>The ValueTask of a waiting <c>ReadAsync</c>, started with <paramref name="token"/>.</summary>
    public ValueTask<int> CountTask(short token) => new(this, token);

    /// <summary>The ValueTask of a waiting <c>ReadExactlyAsync</c>.</summary>
    public ValueTask FilledTask(short token) => new(this, token);

    /// <summary>The ValueTask of a waiting <c>ReadUntilAsync</c>.</summary>
    public ValueTask<byte[]> ChunkTask(short token) => new(this, token);

    /// <summary>The ValueTask of a waiting <c>ReadLineAsync</c>.</summary>
    public ValueTask<string?> LineTask(short token) => new(this, token);

    /// <summary>
    /// Ends the waiting read with <paramref name="error"/>, else with its result: <paramref name="count"/> for a
    /// <c>ReadAsync</c>, <paramref name="result"/> (the chunk or the line) for a <c>ReadUntilAsync</c> or
    /// <c>ReadLineAsync</c>. The continuation runs inline.
    /// </summary>
    public void Finish(int count, object? result, Exception? error)
    {
        if (error is not null)
        {
            SetException(error);
        }
        else
        {
            _result = result;
            SetResult(count);
        }
    }

    byte[] IValueTaskSource<byte[]>.GetResult(short token) => (byte[])TakeResult(token)!;

    string? IValueTaskSource<string?>.GetResult(short token) => (string?)TakeResult(token);

    ValueTaskSourceStatus IValueTaskSource<byte[]>.GetStatus(short token) => GetStatus(token);

    ValueTaskSourceStatus IValueTaskSource<string?>.GetStatus(short token) => GetStatus(token);

    void IValueTaskSource<byte[]>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        OnCompleted(continuation, state, token, flags);

    void IValueTaskSource<string?>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        OnCompleted(continuation, state, token, flags);

    private object? TakeResult(short token)
    {
        object? result = _result;
        GetResult(token); // checks the token, throws the read's error, frees the waiter for the next read
        _result = null;
        return result;
    }
}
