using Microsoft.Extensions.Logging;

namespace Eddy.UnitTests.Loop;

/// <summary>An <see cref="ILogger"/> that keeps what it is given, for assertions. Thread-safe.</summary>
internal sealed class TestLogger : ILogger
{
    private readonly List<LogEntry> _entries = [];

    public IReadOnlyList<LogEntry> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add(new LogEntry(logLevel, formatter(state, exception), exception));
        }
    }
}

internal sealed record LogEntry(LogLevel Level, string Message, Exception? Exception);
