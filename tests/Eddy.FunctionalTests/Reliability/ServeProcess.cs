using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Eddy.FunctionalTests.Reliability;

/// <summary>
/// <c>eddy serve</c> (or another eddy command) as a child process, optionally under a low descriptor limit,
/// with its output collected and its scheduling and memory readable from /proc.
/// </summary>
internal sealed partial class ServeProcess : IDisposable
{
    private readonly TaskCompletionSource<string> _banner = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(string Text, TaskCompletionSource Seen)> _stderrWaiters = [];

    private ServeProcess(Process process) => Process = process;

    public Process Process { get; }

    public ConcurrentQueue<string> Stdout { get; } = new();

    public ConcurrentQueue<string> Stderr { get; } = new();

    /// <summary>The address from the "listening on http://…" line.</summary>
    public IPEndPoint EndPoint { get; private set; } = null!;

    /// <summary>The first line of output (the banner).</summary>
    public string Banner => _banner.Task.Result;

    /// <summary>
    /// Starts <c>eddy serve --port 0</c> with <paramref name="args"/> and waits for its banner. With
    /// <paramref name="descriptorLimit"/>, bash's <c>ulimit -n</c> sets both the soft and the hard limit first,
    /// so neither the runtime nor eddy can raise it.
    /// </summary>
    public static async Task<ServeProcess> StartAsync(int? descriptorLimit, params string[] args)
    {
        string command = $"exec {EddyCommand()} serve --port 0 {string.Join(' ', args)}";
        if (descriptorLimit is int limit)
        {
            command = $"ulimit -n {limit} && {command}";
        }
        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        var child = new ServeProcess(new Process { StartInfo = start });
        child.Process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                child.Stdout.Enqueue(e.Data);
                child._banner.TrySetResult(e.Data);
            }
        };
        child.Process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (child._stderrWaiters)
                {
                    child.Stderr.Enqueue(e.Data);
                    child._stderrWaiters.RemoveAll(w => e.Data.Contains(w.Text, StringComparison.Ordinal) && w.Seen.TrySetResult());
                }
            }
        };
        child.Process.Start();
        child.Process.BeginOutputReadLine();
        child.Process.BeginErrorReadLine();
        try
        {
            string banner = await child._banner.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Match match = ListeningOn().Match(banner);
            Assert.True(match.Success, $"unexpected first line '{banner}'; stderr: {string.Join(" | ", child.Stderr)}");
            child.EndPoint = new IPEndPoint(IPAddress.Parse(match.Groups[1].Value), int.Parse(match.Groups[2].Value));
            return child;
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>Completes once a line of standard error contains <paramref name="text"/> (at once if one already did).</summary>
    public Task StderrLineContaining(string text)
    {
        lock (_stderrWaiters)
        {
            if (Stderr.Any(line => line.Contains(text, StringComparison.Ordinal)))
            {
                return Task.CompletedTask;
            }
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _stderrWaiters.Add((text, seen));
            return seen.Task;
        }
    }

    /// <summary>
    /// How long <paramref name="process"/>'s own threads (its loops and main thread; not the runtime's, named
    /// ".NET …", which may compile or collect in the background) were runnable during <paramref name="window"/>: on a
    /// CPU or waiting for one (/proc/PID/task/*/schedstat, fields 1 and 2). A loop that spins is runnable the whole
    /// window however loaded the machine is, while its CPU time shrinks with its share of the machine; an idle loop is
    /// runnable only for the moments it works.
    /// </summary>
    public static async Task<TimeSpan> RunnableDuringAsync(Process process, TimeSpan window)
    {
        long before = RunnableNanoseconds(process);
        await Task.Delay(window);
        return TimeSpan.FromMicroseconds((RunnableNanoseconds(process) - before) / 1000.0);
    }

    /// <summary>Resident memory (VmRSS in /proc/pid/status), in KiB.</summary>
    public long ResidentKiB()
    {
        string line = File.ReadLines($"/proc/{Process.Id}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]);
    }

    /// <summary>Sends SIGTERM.</summary>
    public void Terminate() => Process.Start("kill", ["-TERM", Process.Id.ToString()])!.WaitForExit();

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
        }
        Process.WaitForExit(10_000);
        Process.Dispose();
    }

    private static long RunnableNanoseconds(Process process)
    {
        long total = 0;
        foreach (string task in Directory.GetDirectories($"/proc/{process.Id}/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET", StringComparison.Ordinal))
                {
                    continue;
                }
                string[] fields = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                total += long.Parse(fields[0]) + long.Parse(fields[1]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The thread ended meanwhile: what it ran no longer counts on either side of the window.
            }
        }
        return total;
    }

    /// <summary>The eddy CLI that the test project builds next to itself: its apphost if there is one, else through dotnet.</summary>
    public static string EddyCommand()
    {
        foreach (string name in new[] { "eddy", "Eddy.Cli" })
        {
            string apphost = Path.Combine(AppContext.BaseDirectory, name);
            if (File.Exists(apphost))
            {
                return Quote(apphost);
            }
        }
        string dll = Path.Combine(AppContext.BaseDirectory, "Eddy.Cli.dll");
        Assert.True(File.Exists(dll), $"no eddy CLI in {AppContext.BaseDirectory}");
        return $"dotnet {Quote(dll)}";
    }

    private static string Quote(string path) => "'" + path.Replace("'", "'\\''") + "'";

    [GeneratedRegex(@"listening on http://(\S+):(\d+)")]
    private static partial Regex ListeningOn();
}
