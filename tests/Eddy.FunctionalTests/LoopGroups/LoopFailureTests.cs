using System.Diagnostics;
using Eddy.FunctionalTests.Samples;

namespace Eddy.FunctionalTests.LoopGroups;

/// <summary>
/// A loop whose own machinery fails takes the process down, loudly, instead of leaving a zombie that holds its port
/// (issue 14): tests/Eddy.TestApps/LoopFailure runs a group whose first loop's selector throws.
/// </summary>
public sealed class LoopFailureTests
{
    [Fact]
    public async Task ALoopWhoseMachineryFailsEndsTheProcessWithTheExceptionInItsOutput()
    {
        string configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        string dll = Path.Combine(SampleProcess.RepositoryRoot, "tests", "Eddy.TestApps", "LoopFailure", "bin", configuration, "net10.0", "LoopFailure.dll");
        Assert.True(File.Exists(dll), $"{dll} was not built");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0"; // no dump file for an abort we cause on purpose
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            // The app sleeps 60 s after starting its group: ending well before that is the failure ending it.
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(45));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
        string output = await stdout;
        string errors = await stderr;
        Assert.DoesNotContain("still alive", output);
        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("event loop 'test-loop-0' failed in its own machinery", errors);
        Assert.Contains("System.InvalidOperationException: selector failed", errors);
    }
}
