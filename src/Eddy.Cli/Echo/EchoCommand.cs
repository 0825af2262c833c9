using System.CommandLine;
using System.Net;

namespace Eddy.Cli.Echo;

/// <summary><c>eddy echo</c>: runs one step of the tutorial's echo server.</summary>
internal static class EchoCommand
{
    /// <summary>The implementations, in tutorial order.</summary>
    public static readonly string[] Implementations = ["blocking", "selector", "loop", "async", "protocol", "streams"];

    public static IEchoServer Create(string impl, IPEndPoint endPoint, EchoOptions options) => impl switch
    {
        "blocking" => new BlockingEchoServer(endPoint, options),
        "selector" => new SelectorEchoServer(endPoint, options),
        "loop" => new LoopEchoServer(endPoint, options),
        "async" => new AsyncEchoServer(endPoint, options),
        "protocol" => new ProtocolEchoServer(endPoint, options),
        "streams" => new StreamsEchoServer(endPoint, options),
        _ => throw new UserError($"unknown --impl '{impl}'; choose one of: {string.Join(", ", Implementations)}"),
    };

    public static Command Create()
    {
        var impl = new Option<string>("--impl")
        {
            Description = "Which step of the tutorial: blocking (one client at a time), selector (epoll + callbacks), loop (EventLoop + AddReader), async (async/await on the loop), protocol (transports and protocols), streams (reader/writer coroutines)",
            DefaultValueFactory = _ => "async",
        };
        impl.AcceptOnlyFromAmong(Implementations);
        var host = CommandLine.HostOption("127.0.0.1");
        var port = CommandLine.PortOption(8888);
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Print every connection and message" };
        var backlog = new Option<int>("--backlog") { Description = "listen(2) backlog", DefaultValueFactory = _ => 1024 };
        var loops = new Option<int>("--loops")
        {
            Description = "Event loops, one thread each (async, protocol and streams only; default: one per core)",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };

        var command = new Command("echo", "Run a TCP echo server: one step of the tutorial that Eddy retraces") { impl, host, port, verbose, backlog, loops };
        command.SetAction(parse =>
        {
            string name = parse.GetValue(impl)!;
            if (parse.GetResult(loops) is { Implicit: false } && name is not ("async" or "protocol" or "streams"))
            {
                throw new UserError($"--loops applies to --impl async, protocol and streams; the {name} server is single-threaded by design");
            }
            if (parse.GetValue(loops) < 1)
            {
                throw new UserError("--loops must be at least 1");
            }
            var endPoint = new IPEndPoint(CommandLine.ParseHost(parse.GetValue(host)!), parse.GetValue(port));
            IEchoServer server;
            try
            {
                server = Create(name, endPoint, new EchoOptions(parse.GetValue(verbose), Console.Out, parse.GetValue(backlog), parse.GetValue(loops)));
            }
            catch (Exception e) when (e is not UserError)
            {
                throw CommandLine.BindError(endPoint, e);
            }
            string threads = name is "async" or "protocol" or "streams" ? $", {parse.GetValue(loops)} loop(s)" : "";
            Console.WriteLine($"eddy echo ({name}) listening on {server.LocalEndPoint}{threads}");
            using (CommandLine.OnTerminationSignal(server.Stop))
            {
                server.Serve();
            }
            return 0;
        });
        return command;
    }
}
