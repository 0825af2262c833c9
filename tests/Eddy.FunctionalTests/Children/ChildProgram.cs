namespace Eddy.FunctionalTests.Children;

/// <summary>
/// The test assembly's own entry point, run as a child process by <see cref="ChildProcess"/>: <c>dotnet exec
/// Eddy.FunctionalTests.dll SCENARIO [ARGS]</c> runs one scenario, for what only a whole process can show (a
/// fail-fast that takes the process down, a signal). The test host loads the assembly without calling this.
/// </summary>
internal static class ChildProgram
{
    /// <summary>Exit code of a scenario that outlived what should have ended it.</summary>
    public const int Survived = 3;

    public static async Task<int> Main(string[] args) => args switch
    {
        ["loop-machinery-fails"] => LoopMachineryFailure.Run(),
        ["hosted-web-app"] => await HostedWebApp.RunAsync(),
        _ => await Unknown(args),
    };

    private static Task<int> Unknown(string[] args)
    {
        Console.Error.WriteLine($"unknown child scenario: {string.Join(' ', args)}");
        return Task.FromResult(2);
    }
}
