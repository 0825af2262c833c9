using System.Collections.Concurrent;
using System.Diagnostics;
using Eddy.FunctionalTests.Transports;

namespace Eddy.FunctionalTests.Children;

/// <summary>
/// This test assembly run as a child process on one scenario of <see cref="ChildProgram"/>, with its output
/// collected line by line. Core dumps are off (<c>ulimit -c 0</c>): a scenario may end in an abort on purpose; SIGINT
/// is at its default disposition whatever the test run inherited.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly List<(string Text, TaskCompletionSource<string> Seen)> _waiters = [];

    private ChildProcess(Process process) => Process = process;

    public Process Process { get; }

    /// <summary>Every line of standard output and standard error, in the order they arrived.</summary>
    public ConcurrentQueue<string> Output { get; } = new();

    public string AllOutput => string.Join("\n", Output);

    public static ChildProcess Start(params string[] scenario)
    {
        string assembly = typeof(ChildProgram).Assembly.Location;
        // SIGINT back to its default first: a shell started in the background (nohup, `cmd &`, some CI runners) hands
        // it down ignored, and the runtime then leaves it ignored, so a scenario that handles Ctrl-C would never see it.
        string command = $"ulimit -c 0 && exec env --default-signal=INT dotnet exec '{assembly}' {string.Join(' ', scenario)}";
        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        var child = new ChildProcess(new Process { StartInfo = start });
        child.Process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        child.Process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        child.Process.Start();
        child.Process.BeginOutputReadLine();
        child.Process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The first line (stdout or stderr) containing <paramref name="text"/>, once it arrives (at once if one did).</summary>
    public Task<string> LineContaining(string text)
    {
        lock (_waiters)
        {
            string? seen = Output.FirstOrDefault(line => line.Contains(text, StringComparison.Ordinal));
            if (seen is not null)
            {
                return Task.FromResult(seen);
            }
            var waiter = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((text, waiter));
            return waiter.Task;
        }
    }

    /// <summary>Waits (bounded) for the process to exit and for its output to be read to the end; returns the exit code.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan timeout)
    {
        try
        {
            await Process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the child did not exit within {timeout}; output:\n{AllOutput}");
        }
        return Process.ExitCode;
    }

    /// <summary>Sends <paramref name="signal"/> (e.g. "TERM") with kill(1): the test project has no P/Invoke of its own.</summary>
    public async Task SignalAsync(string signal)
    {
        using Process kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {Process.Id}") { UseShellExecute = false })!;
        await kill.WaitForExitAsync().WaitAsync(TestTimeouts.Wait);
        Assert.Equal(0, kill.ExitCode);
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }
        Process.WaitForExit(10_000);
        Process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_waiters)
        {
            Output.Enqueue(line);
            _waiters.RemoveAll(w => line.Contains(w.Text, StringComparison.Ordinal) && w.Seen.TrySetResult(line));
        }
    }
}
