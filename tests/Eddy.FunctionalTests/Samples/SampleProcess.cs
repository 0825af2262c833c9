using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Eddy.FunctionalTests.Cli;

namespace Eddy.FunctionalTests.Samples;

/// <summary>
/// A sample of <c>samples/</c> run as a user runs it (<c>dotnet Sample.dll 0</c>: any free port), in a fresh
/// working directory, with its output collected. The samples are built with the tests (project references that
/// do not reference their assembly). Killed on dispose.
/// </summary>
internal sealed partial class SampleProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<string> _firstLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiters = [];

    private SampleProcess(Process process, string workingDirectory)
    {
        _process = process;
        WorkingDirectory = workingDirectory;
    }

    public string WorkingDirectory { get; }

    public ConcurrentQueue<string> Stdout { get; } = new();

    public ConcurrentQueue<string> Stderr { get; } = new();

    /// <summary>The address of the "listening on …" first line.</summary>
    public IPEndPoint EndPoint { get; private set; } = null!;

    /// <summary>The repository's root: the folder above the test assembly that holds Eddy.slnx.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Eddy.slnx")))
                {
                    return dir.FullName;
                }
            }
            throw new InvalidOperationException("Eddy.slnx not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Runs samples/<paramref name="name"/> with <paramref name="args"/> to its end (the suite's bounded <see cref="TlsCliSupport.RunToolAsync"/>).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToEndAsync(string name, params string[] args)
    {
        TlsCliSupport.ToolResult result = await TlsCliSupport.RunToolAsync("dotnet", [BuiltDll(name), .. args]);
        return (result.ExitCode, result.Stdout, result.Stderr);
    }

    private static string BuiltDll(string name)
    {
        // The samples are built in the configuration the tests were (bin/Debug or bin/Release).
        string configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        string dll = Path.Combine(RepositoryRoot, "samples", name, "bin", configuration, "net10.0", name + ".dll");
        Assert.True(File.Exists(dll), $"{dll} was not built");
        return dll;
    }

    /// <summary>Starts samples/<paramref name="name"/> on a free port and waits for its "listening on" line.</summary>
    public static async Task<SampleProcess> StartAsync(string name)
    {
        string dll = BuiltDll(name);
        string workingDirectory = Directory.CreateTempSubdirectory("eddy-sample-").FullName;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("0");
        var sample = new SampleProcess(new Process { StartInfo = start }, workingDirectory);
        sample._process.OutputDataReceived += (_, e) => sample.OnLine(e.Data, sample.Stdout);
        sample._process.ErrorDataReceived += (_, e) => sample.OnLine(e.Data, sample.Stderr);
        sample._process.Start();
        sample._process.BeginOutputReadLine();
        sample._process.BeginErrorReadLine();
        try
        {
            string first = await sample._firstLine.Task.WaitAsync(TimeSpan.FromSeconds(60));
            Match match = ListeningOn().Match(first);
            Assert.True(match.Success, $"unexpected first line '{first}'; stderr: {string.Join(" | ", sample.Stderr)}");
            sample.EndPoint = new IPEndPoint(IPAddress.Parse(match.Groups[1].Value), int.Parse(match.Groups[2].Value));
            return sample;
        }
        catch
        {
            sample.Dispose();
            throw;
        }
    }

    /// <summary>Completes once a line of standard output contains <paramref name="text"/> (or already has).</summary>
    public Task WaitForOutputAsync(string text)
    {
        lock (_waiters)
        {
            if (Stdout.Any(line => line.Contains(text, StringComparison.Ordinal)))
            {
                return Task.CompletedTask;
            }
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((text, seen));
            return seen.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private void OnLine(string? line, ConcurrentQueue<string> into)
    {
        if (line is null)
        {
            return;
        }
        lock (_waiters)
        {
            into.Enqueue(line);
            if (into == Stdout)
            {
                if (!ConsoleLoggerHeader().IsMatch(line)) // "info: Eddy.Hosting.ServerHost[0]": the message is the next line
                {
                    _firstLine.TrySetResult(line);
                }
                _waiters.RemoveAll(w => line.Contains(w.Text, StringComparison.Ordinal) && w.Seen.TrySetResult());
            }
        }
    }

    public void Dispose()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // It had exited already.
        }
        _process.Dispose();
        Directory.Delete(WorkingDirectory, recursive: true);
    }

    [GeneratedRegex(@"^\s*(?:[\w ]+: )?listening on (?:https?://)?(\d+\.\d+\.\d+\.\d+):(\d+)")]
    private static partial Regex ListeningOn();

    [GeneratedRegex(@"^\w+: [\w.]+\[\d+\]$")]
    private static partial Regex ConsoleLoggerHeader();
}
