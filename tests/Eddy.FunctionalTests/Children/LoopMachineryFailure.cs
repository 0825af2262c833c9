using Eddy.FunctionalTests.LoopGroups;
using Eddy.Loop;

namespace Eddy.FunctionalTests.Children;

/// <summary>
/// A group of two loops whose first loop's selector throws once the group runs. The process must end by itself
/// (<see cref="Environment.FailFast(string)"/>) with the exception on standard error; outliving the failure by a
/// minute is <see cref="ChildProgram.Survived"/>.
/// </summary>
internal static class LoopMachineryFailure
{
    public static int Run()
    {
        var failing = new FailingSelector();
        using var group = new LoopGroup(2, i => new EventLoopOptions { Name = $"test-loop-{i}", Selector = i == 0 ? failing : null });
        group.Start();
        Console.WriteLine("started");
        failing.Fail = true;
        Thread.Sleep(TimeSpan.FromSeconds(60)); // the failure ends the process long before this
        Console.WriteLine("still alive");
        return ChildProgram.Survived;
    }
}
