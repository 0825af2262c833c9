namespace Eddy.Loop;

/// <summary>What the loop knows about an exception that user code let escape: passed to <see cref="EventLoop.ExceptionHandler"/>.</summary>
public sealed class LoopExceptionContext(string message, Exception? exception = null, object? callback = null, object? source = null)
{
    /// <summary>Where it happened, e.g. "Exception in callback".</summary>
    public string Message { get; } = message;

    public Exception? Exception { get; } = exception;

    /// <summary>The callback that threw, if any.</summary>
    public object? Callback { get; } = callback;

    /// <summary>The object involved: a transport, a protocol, a socket, a task.</summary>
    public object? Source { get; } = source;

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
