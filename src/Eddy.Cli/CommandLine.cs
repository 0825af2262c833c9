using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Authentication;

namespace Eddy.Cli;

/// <summary>Shared pieces of the command line: invoking, error reporting, common options.</summary>
internal static class CommandLine
{
    /// <summary>Exit code for a failure the user can fix (bad input, port in use, unreachable host).</summary>
    public const int UsageError = 2;

    public static int Invoke(Command root, string[] args)
    {
        // No response files: System.CommandLine would read a token starting with '@' as a file of more arguments,
        // and `eddy load http --body @FILE` means the file's bytes.
        ParseResult parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
        {
            // One line saying what is wrong, then how to call the command: not a screenful of help.
            Console.Error.WriteLine($"eddy: {parse.Errors[0].Message.ReplaceLineEndings(" ").Replace("\t", "")}");
            Console.Error.WriteLine($"usage: {Usage(parse.CommandResult.Command, parse)} (see --help)");
            return UsageError;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UserError e)
        {
            Console.Error.WriteLine($"eddy: {e.Message}");
            return UsageError;
        }
    }

    private static string Usage(Command command, ParseResult parse)
    {
        var names = new List<string>();
        for (SymbolResult? result = parse.CommandResult; result is not null; result = result.Parent)
        {
            if (result is System.CommandLine.Parsing.CommandResult c)
            {
                names.Insert(0, c.Command.Name);
            }
        }
        string arguments = string.Concat(command.Arguments.Select(a => $" <{a.Name}>"));
        string tail = command.Subcommands.Count > 0 ? " <command>" : command.Options.Count > 0 ? " [options]" : "";
        return string.Join(' ', names) + arguments + tail;
    }

    /// <summary>The one-line message for a bind failure, e.g. "127.0.0.1:8888 is already in use".</summary>
    public static UserError BindError(EndPoint endPoint, Exception error) => error switch
    {
        PosixException { Errno: Errno.EADDRINUSE } or SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } =>
            new UserError($"{endPoint} is already in use"),
        PosixException { Errno: Errno.EACCES } or SocketException { SocketErrorCode: SocketError.AccessDenied } =>
            new UserError($"{endPoint}: permission denied (ports below 1024 need privileges)"),
        PosixException { Errno: Errno.EADDRNOTAVAIL } or SocketException { SocketErrorCode: SocketError.AddressNotAvailable } =>
            new UserError($"{endPoint}: address not available on this machine"),
        _ => new UserError($"cannot listen on {endPoint}: {error.Message}"),
    };

    /// <summary>Parses a host for binding: an IP address or "localhost".</summary>
    public static IPAddress ParseHost(string host)
    {
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }
        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return address;
        }
        throw new UserError($"'{host}' is not an IP address (use e.g. 127.0.0.1 or ::1)");
    }

    public static Option<int> PortOption(int defaultPort) => new("--port", "-p")
    {
        Description = "TCP port to listen on (0 picks a free one)",
        DefaultValueFactory = _ => defaultPort,
        Validators =
        {
            result =>
            {
                // A value that is not a number at all is reported by the parser; only range-check numbers here.
                if (result.Tokens is [{ Value: var text }] && int.TryParse(text, out int port) && port is < 0 or > 65535)
                {
                    result.AddError($"--port must be between 0 and 65535, not {port}");
                }
            },
        },
    };

    public static Option<string> HostOption(string defaultHost) => new("--host")
    {
        Description = "Address to listen on",
        DefaultValueFactory = _ => defaultHost,
    };

    /// <summary>A TLS version as OpenSSL and curl name it: TLSv1.3.</summary>
    public static string TlsVersionName(SslProtocols version) => version switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => version.ToString(),
    };

    /// <summary>Blocks until SIGINT or SIGTERM, then calls <paramref name="onSignal"/> once.</summary>
    public static IDisposable OnTerminationSignal(Action onSignal)
    {
        int fired = 0;
        void Handler(PosixSignalContext context)
        {
            context.Cancel = true; // we shut down ourselves, gracefully
            if (Interlocked.Exchange(ref fired, 1) == 0)
            {
                onSignal();
            }
        }
        var registrations = new[]
        {
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handler),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handler),
        };
        return new Disposables(registrations);
    }

    private sealed class Disposables(IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (IDisposable item in items)
            {
                item.Dispose();
            }
        }
    }
}

/// <summary>A failure to report as one line ("eddy: …") with a non-zero exit, never as a stack trace.</summary>
internal sealed class UserError(string message) : Exception(message);
