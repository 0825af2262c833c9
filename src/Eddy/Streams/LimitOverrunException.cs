namespace Eddy.Streams;

/// <summary>
/// A read up to a separator found more than <see cref="Limit"/> bytes before it, or none within
/// <see cref="Limit"/> bytes (asyncio's <c>LimitOverrunError</c>). The limit bounds what one line or
/// chunk may cost in memory, so a peer cannot make the reader buffer without end.
/// </summary>
public sealed class LimitOverrunException : IOException
{
    /// <summary>Creates the exception for a reader whose limit was <paramref name="limit"/>; see <see cref="Consumed"/> and <see cref="SeparatorFound"/>.</summary>
    public LimitOverrunException(int limit, int consumed, bool separatorFound)
        : base(separatorFound
            ? $"The separator was found, but the {consumed} bytes before it exceed the {limit}-byte limit."
            : $"The separator was not found within the {limit}-byte limit ({consumed} bytes searched).")
    {
        Limit = limit;
        Consumed = consumed;
        SeparatorFound = separatorFound;
    }

    /// <summary>The reader's limit when the read failed.</summary>
    public int Limit { get; }

    /// <summary>
    /// How many bytes are to be consumed: the offset of the separator when it was found, else how many
    /// bytes were searched without finding it.
    /// </summary>
    public int Consumed { get; }

    /// <summary>True when the separator was found, past the limit.</summary>
    public bool SeparatorFound { get; }
}
