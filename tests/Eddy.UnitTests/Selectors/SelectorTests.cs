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

    private static T WithBackendVariable<T>(string? value, Func<T> action)
    {
        string? saved = Environment.GetEnvironmentVariable(Selector.BackendVariable);
        try
        {
            Environment.SetEnvironmentVariable(Selector.BackendVariable, value);
            return action();
        }
        finally
        {
            Environment.SetEnvironmentVariable(Selector.BackendVariable, saved);
        }
    }
}
