using Eddy.Loop;
using Eddy.Loop.Internal;

namespace Eddy.Streams.Internal;

/// <summary>
/// The reusable completion source behind a stream's pending read or drain. Its owner completes it on the
/// loop thread and the continuation runs inline (see <see cref="LoopValueTaskSource{T}"/>, which also keeps
/// <c>ConfigureAwait(false)</c> callers such as BCL stream readers on the loop thread), so a wait
/// allocates nothing once the source exists.
/// </summary>
internal class StreamOperation<T> : LoopValueTaskSource<T>
{
    private bool _inUse;                // from Start until the awaiter took the result: only then may the source be reused

    public StreamOperation(EventLoop loop) : base(loop)
    {
    }

    /// <summary>
    /// Returns <paramref name="operation"/> if it is free, else a new source. A source is busy from
    /// <see cref="Start"/> until its result is taken; a caller that drops a ValueTask without awaiting it
    /// costs one allocation here instead of a corrupted source.
    /// </summary>
    public static StreamOperation<T> Rent(ref StreamOperation<T>? operation, EventLoop loop)
    {
        if (operation is null || operation._inUse)
        {
            operation = new StreamOperation<T>(loop);
        }
        return operation;
    }

    /// <summary>From <see cref="Start"/> until the awaiter took the result: the source may not be reused meanwhile.</summary>
    protected bool IsInUse => _inUse;

    /// <summary>Starts an operation; returns the token for its ValueTask.</summary>
    public short Start()
    {
        short token = Prepare();
        _inUse = true;
        return token;
    }

    public void SetResult(T result) => Complete(result);

    public void SetException(Exception error) => Fail(error);

    protected override void OnConsumed() => _inUse = false;
}
