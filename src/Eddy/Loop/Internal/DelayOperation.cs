using System.Threading.Tasks.Sources;

namespace Eddy.Loop.Internal;

/// <summary>The pooled completion source behind <see cref="EventLoop.Delay"/>.</summary>
internal sealed class DelayOperation : LoopValueTaskSource<bool>
{
    private static readonly Action<object?> s_onTimer = static s => ((DelayOperation)s!).OnTimer();

    private TimerHandle _timer;
    private CancellationToken _cancellationToken;
    private CancellationTokenRegistration _registration;

    public DelayOperation(EventLoop loop) : base(loop)
    {
    }

    public ValueTask Start(TimeSpan delay, CancellationToken cancellationToken)
    {
        short token = Prepare();
        _cancellationToken = cancellationToken;
        _timer = Loop.CallLater(delay, s_onTimer, this);
        if (cancellationToken.CanBeCanceled)
        {
            _registration = RegisterCancellation(cancellationToken);
        }
        return new ValueTask(this, token);
    }

    private void OnTimer()
    {
        _registration.Dispose();
        _registration = default;
        Complete(true);
    }

    protected override void OnCancellationRequested()
    {
        // A cancellation queued from another thread may arrive after this delay completed and the pooled
        // operation started another: only the current delay's own token may cancel it.
        if (!IsPending || !_cancellationToken.IsCancellationRequested)
        {
            return;
        }
        _timer.Cancel();
        _registration = default;
        Fail(new OperationCanceledException(_cancellationToken));
    }

    protected override void OnConsumed() => Loop.ReturnDelay(this);
}
