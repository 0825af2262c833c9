using System.Threading.Tasks.Sources;

namespace Eddy.Loop.Internal;

/// <summary>
/// A reusable completion source for loop awaitables (<see cref="IValueTaskSource{TResult}"/>), completed on
/// the loop thread. A continuation that would be posted to the loop's own context is run inline instead:
/// it is already on the loop thread, and posting would allocate and cost a tick.
/// <para>
/// A continuation registered without the scheduling context (<c>ConfigureAwait(false)</c>, as all BCL code
/// awaits) runs inline too, but with no <see cref="SynchronizationContext"/> current. Under the loop's context
/// .NET would queue the <c>ConfigureAwait(false)</c> continuations of the Task-based methods above it (e.g.
/// <c>StreamReader.ReadLineAsync</c> over a stream on the loop) to the thread pool, and their next call would
/// come from a pool thread (<c>AwaitTaskContinuation.IsValidLocationForInlining</c>). With no context the
/// chain stays inline on the loop thread; the first continuation that captured the loop's context is posted
/// back to the loop.
/// </para>
/// </summary>
internal abstract class LoopValueTaskSource<T> : IValueTaskSource<T>, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<T> _core; // RunContinuationsAsynchronously = false: continue inline
    private bool _continueWithoutContext;           // the awaiter registered with ConfigureAwait(false)

    protected LoopValueTaskSource(EventLoop loop) => Loop = loop;

    protected EventLoop Loop { get; }

    /// <summary>True from <see cref="Prepare"/> until the operation completes.</summary>
    public bool IsPending { get; private set; }

    /// <summary>Starts an operation; returns the token for the ValueTask.</summary>
    protected short Prepare()
    {
        if (IsPending)
        {
            throw new InvalidOperationException($"{GetType().Name}: an operation of this kind is already pending; await it before starting another.");
        }
        IsPending = true;
        _continueWithoutContext = false;
        return _core.Version;
    }

    protected void Complete(T result)
    {
        IsPending = false;
        using NoSynchronizationContextScope scope = _continueWithoutContext ? new() : default;
        _core.SetResult(result);
    }

    protected void Fail(Exception error)
    {
        IsPending = false;
        using NoSynchronizationContextScope scope = _continueWithoutContext ? new() : default;
        _core.SetException(error);
    }

    private static readonly Action<object?> s_cancelOnLoop = static s => ((LoopValueTaskSource<T>)s!).OnCancellationRequested();

    /// <summary>
    /// Registers <see cref="OnCancellationRequested"/> to run on the loop thread when <paramref name="token"/> is cancelled.
    /// The token may be cancelled on any thread. Passing <c>this</c> as the state keeps the registration allocation-free.
    /// </summary>
    protected CancellationTokenRegistration RegisterCancellation(CancellationToken token) =>
        token.UnsafeRegister(static (state, _) =>
        {
            var source = (LoopValueTaskSource<T>)state!;
            source.Loop.RunOnLoop(s_cancelOnLoop, source);
        }, this);

    /// <summary>
    /// On the loop thread, after the token of a <see cref="RegisterCancellation"/> was cancelled. The operation
    /// may have completed (and the source been reused) meanwhile: check that it is still pending on that token.
    /// </summary>
    protected virtual void OnCancellationRequested()
    {
    }

    /// <summary>Called after the awaiter took the result: the source may be reused from here on.</summary>
    protected virtual void OnConsumed()
    {
    }

    public T GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            OnConsumed();
        }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        _continueWithoutContext = (flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) == 0;
        if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) != 0 && SynchronizationContext.Current == Loop.SynchronizationContext)
        {
            flags &= ~ValueTaskSourceOnCompletedFlags.UseSchedulingContext;
        }
        _core.OnCompleted(continuation, state, token, flags);
    }
}
