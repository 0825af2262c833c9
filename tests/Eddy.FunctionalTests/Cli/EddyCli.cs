using System.Diagnostics;
using System.Text.Json;

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

    /// <summary>Runs <c>eddy load http URL … --json FILE</c> and returns the result and the parsed report; it must write nothing to standard error.</summary>
    public static async Task<(Result Result, JsonElement Root)> RunLoadHttpAsync(TimeSpan timeout, string url, params string[] more)
    {
        string json = Path.Combine(Path.GetTempPath(), $"eddy-load-{Guid.NewGuid():N}.json");
        try
        {
            var result = await RunAsync(timeout, ["load", "http", url, "--json", json, .. more]);
            Assert.True(File.Exists(json), $"no JSON written; exit {result.ExitCode}, stderr: {result.Stderr}");
            using JsonDocument report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            Assert.True(result.Stderr.Length == 0, result.Stderr);
            return (result, report.RootElement.Clone());
        }
        finally
        {
            File.Delete(json);
        }
    }
}
