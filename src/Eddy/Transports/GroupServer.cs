using System.Net;
using Eddy.Loop;

namespace Eddy.Transports;

/// <summary>A server listening on every loop of a <see cref="LoopGroup"/>. Members are callable from any thread.</summary>
public sealed class GroupServer
{
    private readonly IReadOnlyList<(EventLoop Loop, Server Server)> _servers;

    internal GroupServer(IReadOnlyList<(EventLoop, Server)> servers)
    {
        _servers = servers;
        EndPoint = servers[0].Item2.EndPoints[0];
    }

    /// <summary>The address every loop listens on.</summary>
    public EndPoint EndPoint { get; }

    /// <summary>Each loop's server, for inspection on its own loop thread.</summary>
    public IReadOnlyList<Server> Servers => _servers.Select(s => s.Server).ToArray();

    /// <summary>Stops accepting on every loop; live connections go on.</summary>
    public Task CloseAsync() => Task.WhenAll(_servers.Select(s => LoopGroup.InvokeAsync(s.Loop, () => { s.Server.Close(); return true; })));

    /// <summary>
    /// Graceful shutdown on every loop (<see cref="Server.ShutdownAsync"/>): stop accepting, let work in flight
    /// finish for up to <paramref name="drainTimeout"/>, then abort what is left. Completes when every connection is gone.
    /// </summary>
    public Task ShutdownAsync(TimeSpan drainTimeout) =>
        Task.WhenAll(_servers.Select(s => LoopGroup.InvokeAsync(s.Loop, async () => { await s.Server.ShutdownAsync(drainTimeout); return true; })));

    /// <summary>Bytes written to live connections and not yet sent, over all loops.</summary>
    public async Task<long> GetBufferedWriteBytesAsync() =>
        (await Task.WhenAll(_servers.Select(s => LoopGroup.InvokeAsync(s.Loop, () => s.Server.BufferedWriteBytes)))).Sum();

    /// <summary>Connections refused over all loops because the <see cref="ConnectionLimit"/> was reached.</summary>
    public async Task<long> GetRefusedConnectionCountAsync() =>
        (await Task.WhenAll(_servers.Select(s => LoopGroup.InvokeAsync(s.Loop, () => s.Server.RefusedConnectionCount)))).Sum();

    /// <summary>Failed accepts for lack of descriptors (EMFILE/ENFILE) over all loops.</summary>
    public async Task<long> GetFdExhaustionCountAsync() =>
        (await Task.WhenAll(_servers.Select(s => LoopGroup.InvokeAsync(s.Loop, () => s.Server.FdExhaustionCount)))).Sum();

    /// <summary>Closes every live connection gracefully, on each loop.</summary>
    public Task CloseClientsAsync() => Task.WhenAll(_servers.Select(s => LoopGroup.InvokeAsync(s.Loop, () => { s.Server.CloseClients(); return true; })));

    /// <summary>Aborts every live connection, on each loop.</summary>
    public Task AbortClientsAsync() => Task.WhenAll(_servers.Select(s => LoopGroup.InvokeAsync(s.Loop, () => { s.Server.AbortClients(); return true; })));

    /// <summary>Completes when every loop's server is closed and all their connections are gone.</summary>
    public Task WaitClosedAsync() => Task.WhenAll(_servers.Select(s => LoopGroup.InvokeAsync(s.Loop, () => s.Server.WaitClosedAsync().ContinueWith(_ => true, TaskScheduler.Default))));

    /// <summary>Live connections over all loops.</summary>
    public async Task<int> GetConnectionCountAsync() =>
        (await Task.WhenAll(_servers.Select(s => LoopGroup.InvokeAsync(s.Loop, () => s.Server.ConnectionCount)))).Sum();
}
