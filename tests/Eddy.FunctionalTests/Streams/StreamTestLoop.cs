using System.Net;
using Eddy.Loop;

namespace Eddy.FunctionalTests.Streams;

/// <summary>
/// Runs a test body on a fresh event loop on its own thread (asyncio.run style), bounded by a timeout so
/// a hang fails the test instead of the run. Every call of the loop's exception handler is recorded.
/// </summary>
internal static class StreamTestLoop
{
    /// <summary>Long enough never to trip on a loaded machine; only a bug reaches it.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static IPEndPoint AnyLoopbackPort => new(IPAddress.Loopback, 0);

    /// <summary>Runs <paramref name="body"/>; fails if it throws, hangs, or the loop's exception handler is called.</summary>
    public static async Task RunAsync(Func<EventLoop, Task> body)
    {
        var failure = new TaskCompletionSource<LoopExceptionContext>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task run = Start(body, (_, context) => failure.TrySetResult(context));
        Task first = await Task.WhenAny(run, failure.Task).WaitAsync(Timeout);
        if (first == failure.Task)
        {
            Assert.Fail($"The loop's exception handler was called: {failure.Task.Result}");
        }
        await run;
    }

    /// <summary>Runs <paramref name="body"/>, which expects exception-handler calls: it gets the list they are recorded in.</summary>
    public static Task RunAsync(Func<EventLoop, List<LoopExceptionContext>, Task> body)
    {
        var errors = new List<LoopExceptionContext>(); // loop thread only
        return Start(loop => body(loop, errors), (_, context) => errors.Add(context)).WaitAsync(Timeout);
    }

    private static Task Start(Func<EventLoop, Task> body, Action<EventLoop, LoopExceptionContext> handler) =>
        Task.Factory.StartNew(
            () => EventLoop.Run(loop =>
            {
                loop.ExceptionHandler = handler;
                return body(loop);
            }),
            CancellationToken.None,
            TaskCreationOptions.LongRunning, // a thread of its own: the loop blocks it in epoll_wait
            TaskScheduler.Default);
}
