using Eddy.FunctionalTests.Children;

namespace Eddy.FunctionalTests.LoopGroups;

/// <summary>
/// A loop whose own machinery fails takes the process down, loudly, instead of leaving a zombie that holds its port
/// (issue 14): <see cref="LoopMachineryFailure"/> runs, in a child process, a group whose first loop's selector throws.
/// </summary>
public sealed class LoopFailureTests
{
    [Fact]
    public async Task ALoopWhoseMachineryFailsEndsTheProcessWithTheExceptionInItsOutput()
    {
        using var child = ChildProcess.Start("loop-machinery-fails");
        // The scenario sleeps 60 s after starting its group: ending well before that is the failure ending it.
        int exitCode = await child.ExitCodeAsync(TimeSpan.FromSeconds(45));
        string output = child.AllOutput;
        Assert.DoesNotContain("still alive", output);
        Assert.NotEqual(0, exitCode);
        Assert.NotEqual(ChildProgram.Survived, exitCode);
        Assert.Contains("event loop 'test-loop-0' failed in its own machinery", output);
        Assert.Contains("System.InvalidOperationException: selector failed", output);
    }
}
