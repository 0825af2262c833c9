using Eddy.Selectors;

namespace Eddy.FunctionalTests.LoopGroups;

/// <summary>
/// A selector that polls instead of waiting (so the loop stays responsive without an eventfd), and throws once told
/// to: a failure of the loop's own machinery (LoopGroupTests, and the child scenario Children/LoopMachineryFailure).
/// </summary>
internal sealed class FailingSelector : Selector
{
    public volatile bool Fail;

    public override string Name => "failing";

    protected override void AddToBackend(SelectorKey key)
    {
    }

    protected override void ModifyInBackend(SelectorKey key, Interest interest)
    {
    }

    protected override void RemoveFromBackend(SelectorKey key)
    {
    }

    protected override int SelectCore(Span<SelectorEvent> events, int timeoutMs)
    {
        if (Fail)
        {
            throw new InvalidOperationException("selector failed");
        }
        Thread.Sleep(timeoutMs is < 0 or > 5 ? 5 : timeoutMs);
        return 0;
    }

    protected override void CloseBackend()
    {
    }
}
