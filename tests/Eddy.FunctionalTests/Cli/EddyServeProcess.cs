using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Threading.Channels;

namespace Eddy.FunctionalTests.Cli;

/// <summary>
/// <c>eddy serve …</c> running as a process, as a user starts it: the first line of its output names the URLs it
/// listens on; standard error is read line by line, so a test can wait for a line; <see cref="StopAsync"/> sends
/// SIGTERM and waits for the exit. Disposing kills it if it still runs.
/// </summary>
internal sealed partial class EddyServeProcess : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly Channel<string> _errors = Channel.CreateUnbounded<string>();
    private readonly List<string> _errorLines = [];

    private EddyServeProcess(Process process, string firstLine)
    {
        _process = process;
        FirstLine = firstLine;
        foreach (Match url in ListeningUrl().Matches(firstLine))
        {
            (url.Groups[1].Value == "https" ? HttpsUrls : HttpUrls).Add(url.Value);
        }
    }

    /// <summary>What it printed first: "eddy serve: listening on http://… and https://… (…)".</summary>
    public string FirstLine { get; }

    public List<string> HttpUrls { get; } = [];

    public List<string> HttpsUrls { get; } = [];

    /// <summary>The HTTPS port (the only one, or the one of --tls-port).</summary>
    public int HttpsPort => new Uri(HttpsUrls.Single()).Port;

    public int HttpPort => new Uri(HttpUrls.Single()).Port;

    public int ProcessId => _process.Id;

    /// <summary>Starts <c>eddy serve</c> with <paramref name="args"/> and waits for its first line.</summary>
    public static async Task<EddyServeProcess> StartAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Eddy.Cli"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add("serve");
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        Process process = Process.Start(start)!;
        try
        {
            string? line = await process.StandardOutput.ReadLineAsync().WaitAsync(Timeout);
            Assert.True(line is not null && line.Contains("listening on"), $"unexpected first line: {line}; stderr: {(process.HasExited ? await process.StandardError.ReadToEndAsync() : "")}");
            var serve = new EddyServeProcess(process, line!);
            _ = serve.ReadErrorsAsync();
            return serve;
        }
        catch
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
            process.Dispose();
            throw;
        }
    }

    /// <summary>Waits for a line on standard error that contains <paramref name="text"/> and returns it.</summary>
    public async Task<string> WaitForErrorLineAsync(string text)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (true)
        {
            string line = await _errors.Reader.ReadAsync(timeout.Token);
            if (line.Contains(text))
            {
                return line;
            }
        }
    }

    /// <summary>Sends SIGTERM, waits for the exit, and returns the exit code, the rest of standard output and all of standard error.</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> StopAsync()
    {
        Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        return await WaitForExitAsync();
    }

    /// <summary>Waits for the process to end by itself (a signal sent meanwhile, or a failure).</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> WaitForExitAsync()
    {
        string stdout = await _process.StandardOutput.ReadToEndAsync().WaitAsync(Timeout);
        await _process.WaitForExitAsync().WaitAsync(Timeout);
        await _errors.Reader.Completion.WaitAsync(Timeout);
        lock (_errorLines)
        {
            return (_process.ExitCode, stdout, string.Join('\n', _errorLines));
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        _process.Dispose();
    }

    private async Task ReadErrorsAsync()
    {
        try
        {
            string? line;
            while ((line = await _process.StandardError.ReadLineAsync()) is not null)
            {
                lock (_errorLines)
                {
                    _errorLines.Add(line);
                }
                _errors.Writer.TryWrite(line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Killed and disposed: nothing more to read.
        }
        _errors.Writer.TryComplete();
    }

    [GeneratedRegex(@"(https?)://[0-9.:\[\]]+")]
    private static partial Regex ListeningUrl();
}
