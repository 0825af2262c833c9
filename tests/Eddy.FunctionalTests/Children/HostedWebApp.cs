using System.Net;
using Eddy.Hosting;
using Eddy.Web;

namespace Eddy.FunctionalTests.Children;

/// <summary>
/// A web app run by <see cref="ServerHost"/> as a user's Main would: two HTTP endpoints, the default logger
/// (standard output), signals handled. <c>/hold</c> answers only once the host starts to stop, so a test can
/// show that a request in flight at the signal is drained, not cut.
/// </summary>
internal static class HostedWebApp
{
    public static async Task<int> RunAsync()
    {
        var host = new ServerHost(new ServerHostOptions { Name = "child-host", LoopCount = 2 });
        var app = new WebApp();
        app.MapGet("/plaintext", ctx => ctx.Response.Text("Hello, World!"));
        app.MapGet("/hold", async ctx =>
        {
            var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (host.Stopping.Register(() => stopping.TrySetResult()))
            {
                Console.WriteLine("hold: entered");
                await stopping.Task;
            }
            ctx.Response.Text("drained");
        });
        var loopback = new IPEndPoint(IPAddress.Loopback, 0);
        host.ListenHttp(app.Build(), loopback).ListenHttp(app.Build(), loopback);
        return await host.RunAsync();
    }
}
