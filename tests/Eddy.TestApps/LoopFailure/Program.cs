// Run by tests/Eddy.FunctionalTests/LoopGroups/LoopFailureTests: a group of two loops whose first loop's selector
// throws once the group runs. The process must end by itself (Environment.FailFast) with the exception on stderr.
using Eddy.Loop;
using Eddy.Selectors;

var failing = new ThrowingSelector();
using var group = new LoopGroup(2, i => new EventLoopOptions { Name = $"test-loop-{i}", Selector = i == 0 ? failing : null });
group.Start();
Console.WriteLine("started");
failing.Fail = true;
Thread.Sleep(TimeSpan.FromSeconds(60)); // the failure ends the process long before this
Console.WriteLine("still alive");
return 0;

/// <summary>A selector that waits a little, then throws once told to: a failure of the loop's own machinery.</summary>
internal sealed class ThrowingSelector : Selector
{
    public volatile bool Fail;

    public override string Name => "throwing";

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
            throw new InvalidOperationException("the selector broke (LoopFailure test app)");
        }
        Thread.Sleep(timeoutMs is < 0 or > 5 ? 5 : timeoutMs);
        return 0;
    }

    protected override void CloseBackend()
    {
    }
}
