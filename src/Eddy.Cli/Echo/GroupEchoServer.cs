using System.Net;
using Eddy.Loop;
using Eddy.Transports;

namespace Eddy.Cli.Echo;

/// <summary>
/// What the echo servers of steps 5 and 6 share: one loop per core (<c>--loops</c>) serving one
/// <see cref="GroupServer"/>, bound in the constructor, and the stop sequence — stop accepting, cut the
/// clients, wait until every connection is gone, then stop the loops.
/// </summary>
internal abstract class GroupEchoServer : IEchoServer
{
    private readonly LoopGroup _group;
    private readonly GroupServer _server;
    private readonly ManualResetEventSlim _stopping = new();

    protected GroupEchoServer(string name, int loops, Func<LoopGroup, Task<GroupServer>> listen)
    {
        _group = new LoopGroup(loops, i => new EventLoopOptions { Name = $"echo-{name}-{i}" });
        try
        {
            _group.Start();
            _server = listen(_group).GetAwaiter().GetResult();
        }
        catch
        {
            _group.Dispose();
            throw;
        }
        LocalEndPoint = (IPEndPoint)_server.EndPoint;
    }

    public IPEndPoint LocalEndPoint { get; }

    public void Serve()
    {
        _stopping.Wait();
        _server.CloseAsync().Wait();
        _server.AbortClientsAsync().Wait();
        _server.WaitClosedAsync().Wait(); // every ConnectionLost has run
        _group.Dispose();
    }

    public void Stop() => _stopping.Set();

    public void Dispose() => Stop();
}
