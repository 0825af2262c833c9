namespace Eddy.Streams;

/// <summary>
/// The stream ended before a read was satisfied (asyncio's <c>IncompleteReadError</c>): thrown by
/// <see cref="AsyncStreamReader.ReadExactlyAsync"/> when fewer than the requested bytes arrived, and by
/// <see cref="AsyncStreamReader.ReadUntilAsync"/> when the stream ended without the separator. The bytes
/// that did arrive are consumed and kept in <see cref="Partial"/>.
/// </summary>
public sealed class IncompleteReadException : EndOfStreamException
{
    /// <summary>Creates the exception for a read that got <paramref name="partial"/> (the exception keeps it, uncopied) and expected <paramref name="expected"/> bytes, or null for a read up to a separator.</summary>
    public IncompleteReadException(ReadOnlyMemory<byte> partial, int? expected)
        : base(expected is int count
            ? $"The stream ended after {partial.Length} of the {count} bytes expected."
            : $"The stream ended after {partial.Length} bytes, before the separator.")
    {
        Partial = partial;
        Expected = expected;
    }

    /// <summary>The bytes read before the end of the stream (a copy the exception owns).</summary>
    public ReadOnlyMemory<byte> Partial { get; }

    /// <summary>How many bytes were expected, or null when unknown (a read up to a separator).</summary>
    public int? Expected { get; }
}
