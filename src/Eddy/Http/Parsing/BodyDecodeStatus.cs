namespace Eddy.Http.Parsing;

/// <summary>What a body decoder (<see cref="ChunkedDecoder"/>, <see cref="ContentLengthDecoder"/>) found in its input.</summary>
public enum BodyDecodeStatus : byte
{
    /// <summary>The input ran out before the body ended: call again with the unconsumed bytes plus more.</summary>
    NeedMoreData,

    /// <summary>A non-empty slice of body data was returned; call again for the rest.</summary>
    Data,

    /// <summary>The body is complete; the bytes after it belong to the next request.</summary>
    Done,
}
