using System.CommandLine;

namespace Eddy.Cli.Load;

/// <summary><c>eddy load</c>: load generators.</summary>
internal static class LoadCommand
{
    public static Command Create() => new("load", "Generate load against a server and report throughput and latency")
    {
        TcpLoadCommand.Create(),
        Http.HttpLoadCommand.Create(),
        Ws.WsLoadCommand.Create(),
    };
}
