using Microsoft.Extensions.Logging;

namespace Eddy.Cli.Serve;

/// <summary>
/// The log of <c>eddy serve --access-log</c>: one line per entry on standard output, as
/// <c>time level category: message</c>. A minimal sink, so the command needs no logging framework; an
/// application with a host gets the same structured entries in whatever logger it configures.
/// </summary>
internal sealed class ConsoleLineLogger(string category, TextWriter output) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }
        string line = $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {Level(logLevel)} {category}: {formatter(state, exception)}";
        output.WriteLine(exception is null ? line : line + Environment.NewLine + exception);
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => level.ToString().ToLowerInvariant(),
    };
}
