namespace Eddy.Loop;

/// <summary>What the loop knows about an exception that user code let escape: passed to <see cref="EventLoop.ExceptionHandler"/>.</summary>
public sealed class LoopExceptionContext(string message, Exception? exception = null, object? callback = null, object? source = null)
{
    /// <summary>Where it happened, e.g. "Exception in callback".</summary>
    public string Message { get; } = message;

    /// <summary>The exception that escaped, or null for a report that carries only a message.</summary>
    public Exception? Exception { get; } = exception;

    /// <summary>The callback that threw, if any.</summary>
    public object? Callback { get; } = callback;

    /// <summary>The object involved: a transport, a protocol, a socket, a task.</summary>
    public object? Source { get; } = source;

    /// <summary>What the default handler writes: the message, the callback's method, the source, then the exception.</summary>
    public override string ToString()
    {
        string text = Message;
        if (Callback is Delegate d)
        {
            text += $" ({d.Method.DeclaringType?.Name}.{d.Method.Name})";
        }
        if (Source is not null)
        {
            text += $" [{Source}]";
        }
        return Exception is null ? text : text + Environment.NewLine + Exception;
    }
}
