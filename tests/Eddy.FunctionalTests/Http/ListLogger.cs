using Microsoft.Extensions.Logging;

namespace Eddy.FunctionalTests.Http;

/// <summary>An <see cref="ILogger"/> that keeps every entry with its structured fields, for assertions. Thread-safe.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly List<(LogLevel Level, EventId Id, string Message, IReadOnlyDictionary<string, object?> Fields)> _entries = [];

    public IReadOnlyList<(LogLevel Level, EventId Id, string Message, IReadOnlyDictionary<string, object?> Fields)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public string[] Messages(LogLevel level) => [.. Entries.Where(e => e.Level == level).Select(e => e.Message)];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var fields = new Dictionary<string, object?>();
        if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            foreach ((string key, object? value) in pairs)
            {
                fields[key] = value;
            }
        }
        lock (_entries)
        {
            _entries.Add((logLevel, eventId, formatter(state, exception), fields));
        }
    }
}
