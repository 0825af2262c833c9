using Eddy.Loop;
using Eddy.Selectors;

namespace Eddy.FunctionalTests.Children;

/// <summary>
/// A group of two loops whose first loop's selector throws, as a broken backend would: the process must end
/// (fail-fast) with the exception and the loop's name in its output, rather than live on with a dead loop.
/// </summary>
internal static class LoopMachineryFailure
{
    public static int Run()
    {
        var selector = new FailingSelector();
        using var group = new LoopGroup(2, i => new EventLoopOptions { Name = $"child-loop-{i}", Selector = i == 0 ? selector : null });
        group.Start();
        Console.WriteLine("loops started");
        selector.Fail = true;
        // The process should be gone long before this; if not, say so with a distinct exit code.
        new ManualResetEventSlim().Wait(TimeSpan.FromSeconds(20));
        Console.WriteLine("still alive after the loop's machinery failed");
        return ChildProgram.Survived;
    }

    /// <summary>Polls instead of waiting (so the loop stays responsive without an eventfd), and throws once told to.</summary>
    private sealed class FailingSelector : Selector
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
                throw new InvalidOperationException("the test's selector failed");
            }
            Thread.Sleep(timeoutMs is < 0 or > 5 ? 5 : timeoutMs);
            return 0;
        }

        protected override void CloseBackend()
        {
        }
    }
}
