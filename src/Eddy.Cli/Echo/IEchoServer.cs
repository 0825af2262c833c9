using System.Net;

namespace Eddy.Cli.Echo;

/// <summary>
/// What every step of the tutorial's echo server offers, so <c>eddy echo</c> and the tests drive them alike.
/// The constructor binds and listens (a port in use fails there); <see cref="Serve"/> blocks until <see cref="Stop"/>.
/// </summary>
internal interface IEchoServer : IDisposable
{
    /// <summary>The address actually bound (port 0 resolved).</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Serves clients on the calling thread until <see cref="Stop"/>.</summary>
    void Serve();

    /// <summary>Asks <see cref="Serve"/> to return. Callable from any thread.</summary>
    void Stop();
}

/// <summary>Settings shared by the echo servers.</summary>
/// <param name="Verbose">Print every connection and message (off by default: printing is slower than echoing).</param>
/// <param name="Log">Where to print.</param>
/// <param name="Backlog">listen(2) backlog.</param>
/// <param name="Loops">Event loops for the implementations that run one per core (async, protocol); 0: one per core.</param>
internal sealed record EchoOptions(bool Verbose = false, TextWriter? Log = null, int Backlog = 1024, int Loops = 0)
{
    public TextWriter Output => Log ?? Console.Out;
}
