using Eddy.Loop;

namespace Eddy.Cli.Load;

/// <summary>The phases of the load engines: one piece of work on every worker's loop, awaited by the calling thread.</summary>
internal static class LoadLoops
{
    /// <summary>
    /// Runs <paramref name="work"/> on each worker's loop and waits until every loop has finished it. A task that
    /// fails is a bug (connections count their failures): it calls <paramref name="stop"/> at once, so the other
    /// loops end too, and is rethrown.
    /// </summary>
    public static void RunOnEvery<TWorker>(IReadOnlyList<TWorker> workers, Func<TWorker, EventLoop> loopOf, Func<TWorker, Task> work, Action stop)
    {
        Task[] running = new Task[workers.Count];
        for (int i = 0; i < running.Length; i++)
        {
            TWorker worker = workers[i];
            running[i] = LoopGroup.InvokeAsync(loopOf(worker), async () =>
            {
                await work(worker);
                return true;
            });
            running[i].ContinueWith(_ => stop(), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        Task.WhenAll(running).GetAwaiter().GetResult();
    }
}
