namespace Eddy.Loop.Internal;

/// <summary>
/// Clears <see cref="SynchronizationContext.Current"/> until disposed, to complete a task or source whose
/// continuations may be <c>ConfigureAwait(false)</c> code (BCL streams, SslStream). Under the loop's
/// context .NET would queue those to the thread pool rather than inline them
/// (<c>AwaitTaskContinuation.IsValidLocationForInlining</c>), and they would come back to the stream off
/// the loop thread. With no context they run inline on the loop thread; continuations that captured the
/// loop's context are posted back to it.
/// </summary>
internal readonly ref struct NoSynchronizationContextScope
{
    private readonly SynchronizationContext? _saved;

    public NoSynchronizationContextScope()
    {
        _saved = SynchronizationContext.Current;
        if (_saved is not null)
        {
            SynchronizationContext.SetSynchronizationContext(null);
        }
    }

    public void Dispose()
    {
        if (_saved is not null)
        {
            SynchronizationContext.SetSynchronizationContext(_saved);
        }
    }
}

/// <summary>
/// Makes the loop's <see cref="SynchronizationContext"/> current until disposed: for the protocol callbacks a
/// transport makes from inside a completion that ran under <see cref="NoSynchronizationContextScope"/> (SslStream's
/// continuations), so what they start and await comes back to the loop, as from any other loop callback.
/// </summary>
internal readonly ref struct LoopSynchronizationContextScope
{
    private readonly SynchronizationContext? _saved;

    public LoopSynchronizationContextScope(EventLoop loop)
    {
        _saved = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(loop.SynchronizationContext);
    }

    public void Dispose() => SynchronizationContext.SetSynchronizationContext(_saved);
}
