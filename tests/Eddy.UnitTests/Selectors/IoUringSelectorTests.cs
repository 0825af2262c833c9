using Eddy.Selectors;
using Eddy.UnitTests.TestSupport;

namespace Eddy.UnitTests.Selectors;

/// <summary>The <see cref="Selector"/> contract on io_uring (this kernel has it: issue 17's step 1 measured it here).</summary>
[Collection(SerialCollection.Name)]
public sealed class IoUringSelectorTests : SelectorConformanceTests
{
    protected override Selector CreateSelector() => new IoUringSelector();

    [Fact]
    public void NameIsIoUring()
    {
        using Selector selector = CreateSelector();

        Assert.Equal("io_uring", selector.Name);
    }
}
