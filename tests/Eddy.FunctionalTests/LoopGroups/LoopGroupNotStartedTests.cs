using System.Net;
using Eddy.Cli.Serve;
using Eddy.Loop;
using Eddy.Streams;
using Eddy.Transports;

namespace Eddy.FunctionalTests.LoopGroups;

/// <summary>Forgetting <see cref="LoopGroup.Start"/> (or using a stopped group) is a clear error, not a silent hang.</summary>
public sealed class LoopGroupNotStartedTests
{
    private static readonly IPEndPoint AnyPort = new(IPAddress.Loopback, 0);

    [Fact]
    public async Task ServersOnAGroupThatWasNeverStartedFailAtOnceSayingToStartIt()
    {
        using var group = new LoopGroup(1);

        var web = await Assert.ThrowsAsync<InvalidOperationException>(() => DemoApp.Create(DemoApp.DefaultStaticFolder).ListenAsync(group, AnyPort))
            .WaitAsync(TimeSpan.FromSeconds(10));
        var streams = await Assert.ThrowsAsync<InvalidOperationException>(() => group.StartServerAsync((_, _) => Task.CompletedTask, AnyPort))
            .WaitAsync(TimeSpan.FromSeconds(10));
        var each = Assert.Throws<InvalidOperationException>(() => { _ = group.InvokeOnEachAsync(_ => Task.FromResult(0)); });

        Assert.All(new[] { web, streams, each }, e => Assert.Contains("group.Start()", e.Message));
    }

    [Fact]
    public async Task AStoppedGroupSaysItWasStopped()
    {
        using var group = new LoopGroup(1);
        group.Start();
        group.Stop();

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => group.CreateServerAsync(() => new Protocol(), AnyPort))
            .WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("stopped", e.Message);
    }

    private sealed class Protocol : Eddy.Transports.Protocol;
}
