using Eddy.Selectors;
using Eddy.UnitTests.TestSupport;

namespace Eddy.UnitTests.Selectors;

/// <summary>
/// <see cref="Selector.Create"/> and its <c>EDDY_SELECTOR</c> switch. Environment variables are process-wide,
/// so these run alone (<see cref="SerialCollection"/>) and put the variable back as they found it.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class SelectorTests
{
    [Theory]
    [InlineData(null, typeof(EpollSelector))]
    [InlineData("", typeof(EpollSelector))]
    [InlineData("epoll", typeof(EpollSelector))]
    [InlineData("poll", typeof(PollSelector))]
    [InlineData(" POLL ", typeof(PollSelector))]
    [InlineData("Epoll", typeof(EpollSelector))]
    public void CreateHonoursTheBackendVariable(string? value, Type expected)
    {
        using Selector selector = WithBackendVariable(value, Selector.Create);

        Assert.IsType(expected, selector);
    }

    [Fact]
    public void CreateRejectsAnUnknownBackendNamingTheVariable()
    {
        var e = Assert.Throws<ArgumentException>(() => WithBackendVariable("kqueue", Selector.Create));

        Assert.Contains("EDDY_SELECTOR=kqueue", e.Message);
    }

    [Fact]
    public void AnEventLoopBuiltWithoutASelectorUsesTheBackendVariable()
    {
        using var loop = WithBackendVariable("poll", () => new Eddy.Loop.EventLoop());

        Assert.IsType<PollSelector>(loop.Selector);
    }

    [Fact]
    public void TheBackendVariableIsNamedEddySelector()
    {
        Assert.Equal("EDDY_SELECTOR", Selector.BackendVariable);
    }

    [Theory]
    [InlineData("uring", typeof(IoUringSelector))]
    [InlineData(" URING ", typeof(IoUringSelector))]
    [InlineData("epoll", typeof(EpollSelector))]
    [InlineData("", typeof(EpollSelector))]
    public void CreateHonoursTheIoVariable(string value, Type expected)
    {
        using Selector selector = WithBackendVariable(null, Selector.Create, io: value);

        Assert.IsType(expected, selector);
    }

    [Fact]
    public void CreateRejectsAnUnknownIoBackendNamingTheVariable()
    {
        var e = Assert.Throws<ArgumentException>(() => WithBackendVariable(null, Selector.Create, io: "aio"));

        Assert.Contains("EDDY_IO=aio", e.Message);
    }

    [Fact]
    public void WhenTheKernelRefusesIoUringTheSelectorIsEpollAndTheLogSaysWhy()
    {
        var lines = new List<string>();
        using Selector selector = Selector.CreateIoUringOrEpoll(() => throw new PosixException(Errno.EPERM, "io_uring_setup"), lines.Add);

        Assert.IsType<EpollSelector>(selector);
        string line = Assert.Single(lines);
        Assert.StartsWith("eddy: EDDY_IO=uring, but io_uring is not available here (", line);
        Assert.Contains("io_uring_setup", line);
        Assert.EndsWith("); using epoll.", line);
    }

    private static T WithBackendVariable<T>(string? value, Func<T> action, string? io = null)
    {
        string? saved = Environment.GetEnvironmentVariable(Selector.BackendVariable);
        string? savedIo = Environment.GetEnvironmentVariable(Selector.IoVariable); // CI runs the suite once with EDDY_IO=uring
        try
        {
            Environment.SetEnvironmentVariable(Selector.BackendVariable, value);
            Environment.SetEnvironmentVariable(Selector.IoVariable, io);
            return action();
        }
        finally
        {
            Environment.SetEnvironmentVariable(Selector.BackendVariable, saved);
            Environment.SetEnvironmentVariable(Selector.IoVariable, savedIo);
        }
    }
}
