using System.Diagnostics;

namespace Eddy.FunctionalTests.WebSockets;

/// <summary>
/// A WebSocket implementation that is not .NET's, run as a child process for one test: Python's <c>websockets</c>
/// (Debian's python3-websockets, with /usr/bin/python3) or Node's <c>ws</c> (Debian's node-ws, under
/// /usr/share/nodejs/ws). Both are installed by .ci/run. Disposing kills the process if it still runs.
/// </summary>
internal sealed class ExternalPeer : IDisposable
{
    public const string NodeWs = "/usr/share/nodejs/ws";
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly Task<string> _errors;

    private ExternalPeer(string program, string script, params string[] args)
    {
        var start = new ProcessStartInfo(program, [ScriptFlag(program), script, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start)!;
        _errors = _process.StandardError.ReadToEndAsync();
    }

    private static string ScriptFlag(string program) => program.EndsWith("node", StringComparison.Ordinal) ? "-e" : "-c";

    /// <summary>Python's websockets running <paramref name="script"/> with <paramref name="args"/>.</summary>
    public static ExternalPeer Python(string script, params string[] args) =>
        new(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3", script, args); // Debian's, where python3-websockets is

    /// <summary>Node running <paramref name="script"/>, which finds ws at <see cref="NodeWs"/>.</summary>
    public static ExternalPeer Node(string script, params string[] args)
    {
        Assert.True(File.Exists(Path.Combine(NodeWs, "index.js")), $"Node's ws is not installed at {NodeWs}: apt-get install -y node-ws");
        return new("/usr/bin/node", script, args);
    }

    /// <summary>The first line the peer prints (a server prints its port), bounded.</summary>
    public async Task<string> ReadLineAsync()
    {
        string? line;
        try
        {
            line = await _process.StandardOutput.ReadLineAsync().WaitAsync(s_timeout);
        }
        catch (TimeoutException)
        {
            Dispose();
            Assert.Fail($"the peer printed no line within {s_timeout.TotalSeconds} s: {await _errors}");
            throw;
        }
        Assert.True(line is not null, $"the peer printed nothing: exited {_process.HasExited} {(_process.HasExited ? _process.ExitCode : 0)}, errors done {_errors.IsCompleted}: {(_errors.IsCompleted ? _errors.Result : "")}");
        return line!;
    }

    /// <summary>Waits for the peer to exit (bounded) and returns its standard output; fails with its errors if it failed.</summary>
    public async Task<string> WaitForExitAsync()
    {
        Task<string> output = _process.StandardOutput.ReadToEndAsync();
        await _process.WaitForExitAsync().WaitAsync(s_timeout);
        Assert.True(_process.ExitCode == 0, $"the peer exited with {_process.ExitCode}: {await _errors}");
        return await output;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }
}
