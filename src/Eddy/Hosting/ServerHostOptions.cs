using Eddy.Loop;
using Microsoft.Extensions.Logging;

namespace Eddy.Hosting;

/// <summary>How a <see cref="ServerHost"/> runs. Every property has a working default.</summary>
public sealed class ServerHostOptions
{
    /// <summary>
    /// The default of <see cref="DescriptorReserve"/>. Why a reserve: when connections take the very last
    /// descriptor, the server itself copes (accept backs off), but the .NET runtime does not — a thread it starts
    /// then fails to open what it needs and the process aborts ("Out of memory", RELIABILITY.md). The reserve comes
    /// on top of the descriptors already open when the host starts (~60: the runtime's own, the listeners) and leaves
    /// room for what the runtime opens later (each assembly loaded lazily keeps two).
    /// </summary>
    public const long DefaultDescriptorReserve = 128;

    /// <summary>A name for the start line and the default logger's prefix ("eddy: listening on …"). Default "eddy".</summary>
    public string Name { get; set; } = "eddy";

    /// <summary>Event loops, one thread each; 0 (the default) means one per core (<see cref="Environment.ProcessorCount"/>).</summary>
    public int LoopCount { get; set; }

    /// <summary>Options for loop <c>i</c>. Default: loops named "eddy-loop-i".</summary>
    public Func<int, EventLoopOptions>? LoopOptions { get; set; }

    /// <summary>
    /// On stop, how long requests in flight get to finish before their connections are cut (as Kestrel's
    /// ShutdownTimeout). Idle keep-alive connections close at once. Default 30 s.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most connections served at once over every endpoint; more are accepted and closed at once. Default: from <see cref="DescriptorReserve"/>.</summary>
    public long? MaxConnections { get; set; }

    /// <summary>
    /// When <see cref="MaxConnections"/> is not set, the connection limit is the descriptor limit (RLIMIT_NOFILE,
    /// raised to its hard limit at start) minus the descriptors open at start minus this. And at any time, a connection
    /// accepted into one of the last quarter of this many descriptors under the limit in force then (another process
    /// may lower it) is closed at once. 0: neither.
    /// </summary>
    public long DescriptorReserve { get; set; } = DefaultDescriptorReserve;

    /// <summary>Whether SIGINT and SIGTERM stop the host gracefully while it runs (instead of ending the process). Default true.</summary>
    public bool HandleSignals { get; set; } = true;

    /// <summary>Where the start and stop lines go. Default: standard output, each line prefixed with <see cref="Name"/>.</summary>
    public ILogger? Logger { get; set; }
}
