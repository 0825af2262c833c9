namespace Eddy.Http.Parsing;

/// <summary>
/// Reads a body of known length (RFC 9112 §6.2): counts down the bytes still expected and hands out
/// slices of the input, without copying. A mutable struct: keep it in a field and call it there.
/// <code>
/// Decode -> Data* -> Done   (NeedMoreData whenever the input runs out first)
/// </code>
/// </summary>
public struct ContentLengthDecoder
{
    private long _remaining;

    /// <summary>A decoder for a body of <paramref name="length"/> bytes.</summary>
    public ContentLengthDecoder(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _remaining = length;
    }

    /// <summary>The bytes of the body not yet returned.</summary>
    public readonly long Remaining => _remaining;

    /// <summary>All of the body has been returned.</summary>
    public readonly bool IsComplete => _remaining == 0;

    /// <summary>
    /// Returns the next slice of body data from the start of <paramref name="input"/>: <see cref="BodyDecodeStatus.Data"/>
    /// with <paramref name="data"/> non-empty and <paramref name="consumed"/> its length;
    /// <see cref="BodyDecodeStatus.NeedMoreData"/> when <paramref name="input"/> is empty; <see cref="BodyDecodeStatus.Done"/>
    /// (consuming nothing) once the whole body has been returned. Bytes past the body are never consumed.
    /// </summary>
    public BodyDecodeStatus Decode(ReadOnlySpan<byte> input, out int consumed, out ReadOnlySpan<byte> data)
    {
        if (_remaining == 0)
        {
            consumed = 0;
            data = default;
            return BodyDecodeStatus.Done;
        }
        if (input.IsEmpty)
        {
            consumed = 0;
            data = default;
            return BodyDecodeStatus.NeedMoreData;
        }
        int count = (int)Math.Min(_remaining, input.Length);
        _remaining -= count;
        consumed = count;
        data = input[..count];
        return BodyDecodeStatus.Data;
    }
}
