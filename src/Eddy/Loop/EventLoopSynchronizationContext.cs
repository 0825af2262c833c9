namespace Eddy.Loop;

/// <summary>
/// Sends <c>await</c> continuations back to the loop thread. Current on the loop thread while the loop runs,
/// so an <c>await</c> in loop code resumes on the loop (asyncio's model: no locks in user code).
/// <see cref="Post"/> from the loop thread queues like CallSoon; from any other thread like CallSoonThreadSafe.
/// <c>ConfigureAwait(false)</c> skips this context: for Eddy's own awaitables, which complete on the loop,
/// the continuation still runs on the loop thread; for other tasks (file I/O, Task.Delay, thread-pool work)
/// it resumes on a thread-pool thread, where loop APIs other than CallSoonThreadSafe must not be called.
/// </summary>
public sealed class EventLoopSynchronizationContext : SynchronizationContext
{
    internal EventLoopSynchronizationContext(EventLoop loop) => Loop = loop;

    /// <summary>The loop whose thread this context sends continuations to.</summary>
    public EventLoop Loop { get; }

    /// <summary>
    /// Queues <paramref name="d"/> to run on the loop: from the loop thread as <see cref="EventLoop.CallSoon(Action{object?}, object?)"/>
    /// does, from any other thread as <see cref="EventLoop.CallSoonThreadSafe(Action{object?}, object?)"/> does (throws
    /// <see cref="ObjectDisposedException"/> once the loop is closed). Never runs it inline.
    /// </summary>
    public override void Post(SendOrPostCallback d, object? state) => Loop.Post(d, state);

    /// <summary>Runs <paramref name="d"/> on the loop and waits for it; inline when already on the loop thread.</summary>
    public override void Send(SendOrPostCallback d, object? state)
    {
        if (Loop.IsOnLoopThread)
        {
            d(state);
            return;
        }
        using var done = new ManualResetEventSlim();
        Exception? error = null;
        Loop.CallSoonThreadSafe(() =>
        {
            try
            {
                d(state);
            }
            catch (Exception e)
            {
                error = e;
            }
            finally
            {
                done.Set();
            }
        });
        done.Wait();
        if (error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }
    }

    /// <summary>Returns this context: it holds no state but its loop, so a copy would be the same.</summary>
    public override SynchronizationContext CreateCopy() => this;
}
