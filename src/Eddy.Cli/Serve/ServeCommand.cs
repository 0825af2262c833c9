using System.CommandLine;
using System.Net;
using Eddy.Loop;
using Eddy.Transports;

namespace Eddy.Cli.Serve;

/// <summary><c>eddy serve</c>: the demo web app on one event loop per core.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var host = CommandLine.HostOption("127.0.0.1");
        var port = CommandLine.PortOption(8080);
        var loops = new Option<int>("--loops") { Description = "Event loops, one thread each (default: one per core)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var staticDir = new Option<string?>("--static") { Description = "Folder served under /static/ (default: the demo's own files)" };
        var command = new Command("serve", "Serve the demo web app (/, /plaintext, /json, /anything, /static/)") { host, port, loops, staticDir };
        command.SetAction(parse =>
        {
            int loopCount = parse.GetValue(loops);
            if (loopCount < 1)
            {
                throw new UserError("--loops must be at least 1");
            }
            string folder = parse.GetValue(staticDir) ?? DemoApp.DefaultStaticFolder;
            if (!Directory.Exists(folder))
            {
                throw new UserError($"--static: no folder {folder}");
            }
            var endPoint = new IPEndPoint(CommandLine.ParseHost(parse.GetValue(host)!), parse.GetValue(port));
            var app = DemoApp.Create(folder);

            using var group = new LoopGroup(loopCount, i => new EventLoopOptions { Name = $"eddy-http-{i}" });
            group.Start();
            GroupServer server;
            try
            {
                server = app.ListenAsync(group, endPoint).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is not UserError)
            {
                throw CommandLine.BindError(endPoint, e);
            }
            var stop = new ManualResetEventSlim();
            using (CommandLine.OnTerminationSignal(stop.Set))
            {
                Console.WriteLine($"eddy serve: listening on http://{server.EndPoint} ({loopCount} loop{(loopCount == 1 ? "" : "s")}); Ctrl-C stops");
                stop.Wait();
            }
            // Graceful stop: no new connections; let requests in flight finish (up to 5 s), then close the rest.
            server.CloseAsync().Wait();
            Task.WhenAny(server.WaitClosedAsync(), Task.Delay(TimeSpan.FromSeconds(5))).Wait();
            server.CloseClientsAsync().Wait();
            server.WaitClosedAsync().Wait(TimeSpan.FromSeconds(5));
            Console.WriteLine("eddy serve: stopped");
            return 0;
        });
        return command;
    }
}
