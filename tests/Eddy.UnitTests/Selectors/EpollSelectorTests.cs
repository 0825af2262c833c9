using Eddy.Selectors;
using Eddy.UnitTests.TestSupport;

namespace Eddy.UnitTests.Selectors;

[Collection(SerialCollection.Name)]
public sealed class EpollSelectorTests : SelectorConformanceTests
{
    protected override Selector CreateSelector() => new EpollSelector();

    [Fact]
    public void NameIsEpoll()
    {
        using Selector selector = CreateSelector();

        Assert.Equal("epoll", selector.Name);
    }
}
