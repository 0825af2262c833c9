namespace Eddy.Selectors;

/// <summary>One ready registration returned by <see cref="Selector.Select"/>: its key and which of its interests are ready.</summary>
public readonly struct SelectorEvent(SelectorKey key, Interest events)
{
    /// <summary>The registration that is ready; its <see cref="SelectorKey.Data"/> is the caller's object.</summary>
    public SelectorKey Key { get; } = key;

    /// <summary>The ready events, always a non-empty subset of <see cref="SelectorKey.Interest"/>.
    /// An error or hang-up on the descriptor is reported as every interest it has, so the next call on it surfaces the error.</summary>
    public Interest Events { get; } = events;

    /// <summary>For logs: the fd and the ready events.</summary>
    public override string ToString() => $"{Key.Fd}: {Events}";
}
