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
        string message = formatter(state, exception);
        lock (_entries)
        {
            _entries.Add((logLevel, eventId, message, fields));
            _waiters.RemoveAll(w => w.Level == logLevel && message.Contains(w.Text, StringComparison.Ordinal) && w.Seen.TrySetResult(message));
        }
    }

    private readonly List<(LogLevel Level, string Text, TaskCompletionSource<string> Seen)> _waiters = [];

    /// <summary>The first message at <paramref name="level"/> containing <paramref name="text"/>, once it is logged (at once if it was).</summary>
    public Task<string> MessageContaining(LogLevel level, string text)
    {
        lock (_entries)
        {
            foreach (var entry in _entries)
            {
                if (entry.Level == level && entry.Message.Contains(text, StringComparison.Ordinal))
                {
                    return Task.FromResult(entry.Message);
                }
            }
            var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((level, text, seen));
            return seen.Task;
        }
    }
}
