using Eddy.Selectors;
using Eddy.UnitTests.TestSupport;

namespace Eddy.UnitTests.Selectors;

[Collection(SerialCollection.Name)]
public sealed class PollSelectorTests : SelectorConformanceTests
{
    protected override Selector CreateSelector() => new PollSelector();

    [Fact]
    public void NameIsPoll()
    {
        using Selector selector = CreateSelector();

        Assert.Equal("poll", selector.Name);
    }
}
