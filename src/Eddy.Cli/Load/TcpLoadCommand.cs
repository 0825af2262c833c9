using System.CommandLine;

namespace Eddy.Cli.Load;

internal static class TcpLoadCommand
{
    public static Command Create() => new("tcp", "placeholder");
}
