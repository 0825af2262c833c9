using Eddy.Cli.Serve;
using Eddy.Http;
using Eddy.Web;

namespace Eddy.FunctionalTests.Reliability;

/// <summary>The demo app plus routes that make large, slow, held or endless responses, for the reliability tests.</summary>
internal static class ReliabilityApp
{
    public const int StreamChunk = 64 * 1024;
    public const int BigResponse = 256 * 1024;

    private static readonly byte[] s_chunk = Enumerable.Range(0, StreamChunk).Select(i => (byte)('a' + i % 26)).ToArray();
    private static readonly byte[] s_big = Enumerable.Range(0, BigResponse).Select(i => (byte)('a' + i % 26)).ToArray();

    /// <param name="held">When given, <c>/hold</c> answers "released" once <see cref="HeldRequests.Release"/> is called.</param>
    public static WebApp Create(HeldRequests? held = null)
    {
        WebApp app = DemoApp.Create(DemoApp.DefaultStaticFolder);
        if (held is not null)
        {
            app.MapGet("/hold", async context =>
            {
                await held.HoldAsync();
                context.Response.Text("released");
            });
        }
        // /stream/{mb}: a streamed (chunked) body of that many MiB, written a chunk at a time; each write awaits drain.
        app.MapGet("/stream/{mb:int}", async context =>
        {
            context.Request.RouteValues.TryGetInt("mb", out int mb);
            for (int i = 0; i < mb * (1024 * 1024 / StreamChunk); i++)
            {
                await context.Response.WriteAsync(s_chunk);
            }
        });
        // /big: a 256 KiB body sent at once.
        app.MapGet("/big", context => context.Response.Bytes(s_big));
        // /bytes/{kib}: a body of that many KiB sent at once.
        app.MapGet("/bytes/{kib:int}", context =>
        {
            context.Request.RouteValues.TryGetInt("kib", out int kib);
            context.Response.Bytes(new byte[kib * 1024]);
        });
        // /slow/{ms}: answers after a delay on the loop.
        app.MapGet("/slow/{ms:int}", async context =>
        {
            context.Request.RouteValues.TryGetInt("ms", out int ms);
            await context.Loop.Delay(TimeSpan.FromMilliseconds(ms));
            context.Response.Text("slept");
        });
        return app;
    }
}

/// <summary>
/// Requests to <c>/hold</c> (see <see cref="ReliabilityApp.Create"/>): each handler signals that it started, then
/// waits until the test releases them all, so a test knows a request is in flight without guessing how long to wait.
/// Release only while the server's loop runs (the handlers resume on it); a request never released just stays parked.
/// </summary>
internal sealed class HeldRequests
{
    private readonly SemaphoreSlim _entered = new(0);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Waits (bounded) until one more held handler has started.</summary>
    public async Task WaitForHandlerAsync() =>
        Assert.True(await _entered.WaitAsync(Transports.TestTimeouts.Wait), "no /hold handler started");

    public void Release() => _released.TrySetResult();

    internal Task HoldAsync()
    {
        _entered.Release();
        return _released.Task;
    }
}
