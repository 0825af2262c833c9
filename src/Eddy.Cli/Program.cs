// eddy: the command-line face of Eddy.
//   eddy serve                                      the demo web app on 127.0.0.1:8080
//   eddy echo --impl blocking|selector|loop|async   the tutorial's echo servers, one per step
//   eddy load tcp HOST:PORT                         a concurrent load generator for them
//   eddy load http URL                              a wrk-class HTTP/1.1 (and HTTPS) load generator
//   eddy cert create --out DIR                      a self-signed development certificate for HTTPS
using System.CommandLine;
using System.CommandLine.Help;
using Eddy.Cli;
using Eddy.Cli.Cert;
using Eddy.Cli.Echo;
using Eddy.Cli.Load;
using Eddy.Cli.Serve;

// A plain Command named "eddy" rather than RootCommand, whose name would be the assembly's (Eddy.Cli).
var root = new Command("eddy", "Eddy: an event-loop networking and HTTP framework for .NET, and its tools.")
{
    new HelpOption(),
    new VersionOption(),
    ServeCommand.Create(),
    EchoCommand.Create(),
    LoadCommand.Create(),
    CertCommand.Create(),
};
return CommandLine.Invoke(root, args);
