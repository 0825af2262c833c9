using Microsoft.Extensions.Logging;

namespace Eddy.Hosting.Internal;

/// <summary>
/// The host's default logger, for a process without logging set up: one line per entry, "name: message",
/// information to standard output, warnings and errors (with their exception) to standard error.
/// </summary>
internal sealed class LineLogger(string name) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }
        string line = $"{name}: {formatter(state, exception)}";
        if (logLevel >= LogLevel.Warning)
        {
            Console.Error.WriteLine(exception is null ? line : $"{line}{Environment.NewLine}{exception}");
        }
        else
        {
            Console.WriteLine(line);
        }
    }
}
