namespace Eddy.Loop.Internal;

/// <summary>
/// A <see cref="LoopValueTaskSource{T}"/> for an operation a <see cref="CancellationToken"/> may end: a waiting read
/// (the HTTP request body's, a WebSocket receive). The registration is made only for a token that can be cancelled,
/// with <c>this</c> as its state, so a wait allocates nothing; cancellation is acted on on the loop thread, and only if
/// the same wait is still pending. By default it fails the wait with <see cref="OperationCanceledException"/>.
/// </summary>
internal class CancellableOperation<T>(EventLoop loop) : LoopValueTaskSource<T>(loop)
{
    private CancellationTokenRegistration _registration;

    /// <summary>The token of the current wait.</summary>
    protected CancellationToken Token { get; private set; }

    public short Start(CancellationToken token)
    {
        short version = Prepare();
        Token = token;
        _registration = token.CanBeCanceled ? RegisterCancellation(token) : default;
        return version;
    }

    public void SetResult(T result)
    {
        _registration.Dispose();
        Complete(result);
    }

    public void SetException(Exception error)
    {
        _registration.Dispose();
        Fail(error);
    }

    protected sealed override void OnCancellationRequested()
    {
        if (IsPending && Token.IsCancellationRequested)
        {
            OnCancelled();
        }
    }

    /// <summary>The wait was cancelled (on the loop thread, still pending): fail it, unless the operation keeps what it has.</summary>
    protected virtual void OnCancelled() => SetException(new OperationCanceledException(Token));
}
