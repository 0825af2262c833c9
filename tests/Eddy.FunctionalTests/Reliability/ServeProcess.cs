using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Eddy.FunctionalTests.Reliability;

/// <summary>
/// <c>eddy serve</c> (or another eddy command) as a child process, optionally under a low descriptor limit,
/// with its output collected and its CPU time and memory readable from /proc.
/// </summary>
internal sealed partial class ServeProcess : IDisposable
{
    private const int ClockTicksPerSecond = 100; // USER_HZ, the unit of utime and stime in /proc/<pid>/stat

    private readonly TaskCompletionSource<string> _banner = new(TaskCreationOptions.RunContinuationsAsynchronously);

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
                child.Stderr.Enqueue(e.Data);
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

    /// <summary>CPU time (user + system) the process has used so far, in milliseconds.</summary>
    public long CpuMilliseconds() => CpuTicks(Process) * 1000 / ClockTicksPerSecond;

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

    /// <summary>utime + stime of the process, in clock ticks (proc(5): fields 14 and 15 of /proc/pid/stat).</summary>
    public static long CpuTicks(Process process)
    {
        string stat = File.ReadAllText($"/proc/{process.Id}/stat");
        // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11]) + long.Parse(fields[12]);
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
