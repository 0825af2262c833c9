using System.Diagnostics;

namespace Eddy.FunctionalTests.Cli;

/// <summary>Runs the <c>eddy</c> command built next to the tests, as a user would, with a time limit.</summary>
internal static class EddyCli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(TimeSpan timeout, params string[] args)
    {
        string apphost = Path.Combine(AppContext.BaseDirectory, "Eddy.Cli");
        var start = File.Exists(apphost)
            ? new ProcessStartInfo(apphost)
            : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Eddy.Cli.dll") } };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"eddy {string.Join(' ', args)} did not exit within {timeout}");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
