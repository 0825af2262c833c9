using System.Runtime.CompilerServices;
using Eddy.Http.Internal;

namespace Eddy.Http;

/// <summary>
/// Decodes a chunked body (RFC 9112 §7.1): a resumable state machine over spans that returns the data
/// as slices of its input, without copying, so a body can go to its consumer piece by piece whatever
/// the split of the input. One per connection; <see cref="Reset"/> before each chunked body.
/// <code>
/// chunked-body = *chunk last-chunk trailer-section CRLF
/// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
/// </code>
/// Call <see cref="Decode{THandler}"/> in a loop, advancing the input by <c>consumed</c> each time:
/// <code>
/// Decode -> (Data | NeedMoreData)* -> Done
/// </code>
/// The framing bytes (sizes, extensions, CRLFs) are consumed as they arrive, byte by byte if need be,
/// so on <see cref="BodyDecodeStatus.NeedMoreData"/> everything was consumed - except in the trailer
/// section, where a field line is consumed only once it is complete (as in a head): keep
/// <c>input[consumed..]</c> and present it again with more. Strict throughout: see the table in
/// <c>HttpParser.cs</c>.
/// </summary>
public sealed class ChunkedDecoder
{
    private enum State : byte
    {
        Size,           // in chunk-size: _digits hex digits so far
        SizeSpace,      // BWS after the size: only more BWS or ';' may follow
        Extension,      // after ';': skipping to CR
        SizeLf,         // CR seen at the end of the size line
        Data,           // _chunkRemaining bytes of chunk-data to go
        DataCr,         // chunk-data done: CR must follow
        DataLf,
        Trailers,       // after the last-chunk: field lines until an empty line
        Done,
    }

    // A long holds 15 hex digits plus a 16th up to 7; a longer size, even of leading zeros, is rejected.
    private const int MaxSizeDigits = 16;

    private readonly HttpParserLimits _limits;
    private State _state;
    private long _size;             // Size: the value so far
    private int _digits;
    private int _extensionLength;   // bytes of this size line after its digits so far (BWS, ';', extensions)
    private long _chunkRemaining;
    private long _bodyLength;       // data bytes announced by the chunk-sizes so far
    private int _trailerBytes;
    private int _trailerCount;

    public ChunkedDecoder()
        : this(HttpParserLimits.Default)
    {
    }

    /// <summary>Uses <see cref="HttpParserLimits.MaxChunkExtensionLength"/>, <see cref="HttpParserLimits.MaxRequestBodySize"/>, and the header limits for the trailer section.</summary>
    public ChunkedDecoder(HttpParserLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _limits = limits;
    }

    /// <summary>The last-chunk, trailers and final CRLF have been consumed.</summary>
    public bool IsComplete => _state == State.Done;

    /// <summary>The data bytes announced by the chunk-sizes read so far.</summary>
    public long BodyLength => _bodyLength;

    /// <summary>Prepares for a new chunked body.</summary>
    public void Reset()
    {
        _state = State.Size;
        _size = 0;
        _digits = 0;
        _extensionLength = 0;
        _chunkRemaining = 0;
        _bodyLength = 0;
        _trailerBytes = 0;
        _trailerCount = 0;
    }

    /// <summary>As <see cref="Decode{THandler}"/>, with trailer fields checked and dropped.</summary>
    public BodyDecodeStatus Decode(ReadOnlySpan<byte> input, out int consumed, out ReadOnlySpan<byte> data)
    {
        var skip = default(SkipTrailers);
        return Decode(input, ref skip, out consumed, out data);
    }

    /// <summary>
    /// Decodes from the start of <paramref name="input"/> up to the next slice of data, the end of the
    /// input, or the end of the body. <see cref="BodyDecodeStatus.Data"/>: <paramref name="data"/> is a
    /// non-empty slice of <paramref name="input"/>, and the last bytes of the <paramref name="consumed"/>
    /// ones. <see cref="BodyDecodeStatus.NeedMoreData"/>: call again with <c>input[consumed..]</c> and
    /// more. <see cref="BodyDecodeStatus.Done"/>: the body ended; <c>input[consumed..]</c> is the next
    /// request. Trailer fields go to <paramref name="handler"/> as they are parsed.
    /// </summary>
    /// <exception cref="HttpRejectException">The body is malformed or exceeds the limits.</exception>
    public BodyDecodeStatus Decode<THandler>(ReadOnlySpan<byte> input, scoped ref THandler handler, out int consumed, out ReadOnlySpan<byte> data)
        where THandler : struct, IHttpTrailerHandler
    {
        int position = 0;
        while (true)
        {
            State state = _state;
            if (state == State.Data)
            {
                int available = input.Length - position;
                if (available == 0)
                {
                    break;
                }
                int count = (int)Math.Min(_chunkRemaining, available);
                data = input.Slice(position, count);
                position += count;
                _chunkRemaining -= count;
                if (_chunkRemaining == 0)
                {
                    _state = State.DataCr;
                }
                consumed = position;
                return BodyDecodeStatus.Data;
            }
            if (state == State.Trailers)
            {
                data = default;
                return DecodeTrailers(input, position, ref handler, out consumed);
            }
            if (state == State.Done)
            {
                consumed = position;
                data = default;
                return BodyDecodeStatus.Done;
            }
            // (uint) lets the JIT drop the bounds check on input[position].
            if ((uint)position >= (uint)input.Length)
            {
                break;
            }
            if (state == State.Extension)
            {
                position = SkipExtension(input, position);
            }
            else
            {
                Step(input[position++]);
            }
        }
        consumed = position;
        data = default;
        return BodyDecodeStatus.NeedMoreData;
    }

    /// <summary>One byte of the framing around the data.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Step(byte b)
    {
        switch (_state)
        {
            case State.Size:
                int digit = HttpCharacters.HexValue(b);
                if (digit >= 0)
                {
                    // Overflow: shifting in one more digit must keep the value a non-negative long.
                    if (++_digits > MaxSizeDigits || _size > (long.MaxValue >> 4))
                    {
                        HttpReject.Throw(HttpRejectReason.InvalidChunkSize);
                    }
                    _size = (_size << 4) | (uint)digit;
                }
                else
                {
                    EndSize(b);
                }
                break;
            case State.SizeSpace:
                // chunk-ext = *( BWS ";" ... ): whitespace after the size may only lead to an extension.
                if (b == (byte)';')
                {
                    _state = State.Extension;
                }
                else if (!HttpCharacters.IsWhitespace(b))
                {
                    HttpReject.Throw(HttpRejectReason.InvalidChunkSize);
                }
                CountExtensionBytes(1);
                break;
            case State.SizeLf:
                if (b != (byte)'\n')
                {
                    HttpReject.Throw(HttpRejectReason.InvalidLineTerminator);
                }
                StartData();
                break;
            case State.DataCr:
                if (b != (byte)'\r')
                {
                    HttpReject.Throw(HttpRejectReason.MissingChunkTerminator);
                }
                _state = State.DataLf;
                break;
            case State.DataLf:
                if (b != (byte)'\n')
                {
                    HttpReject.Throw(HttpRejectReason.MissingChunkTerminator);
                }
                _state = State.Size;
                _size = 0;
                _digits = 0;
                _extensionLength = 0;
                break;
        }
    }

    /// <summary>The first byte after the hex digits.</summary>
    private void EndSize(byte b)
    {
        if (_digits == 0)
        {
            // Empty, or junk before the size (leading whitespace, a sign, "0x").
            HttpReject.Throw(HttpRejectReason.InvalidChunkSize);
        }
        if (b == (byte)'\r')
        {
            _state = State.SizeLf;
        }
        else if (b == (byte)';')
        {
            _state = State.Extension;
            CountExtensionBytes(1);
        }
        else if (HttpCharacters.IsWhitespace(b))
        {
            _state = State.SizeSpace;
            CountExtensionBytes(1);
        }
        else if (b == (byte)'\n')
        {
            HttpReject.Throw(HttpRejectReason.InvalidLineTerminator);
        }
        else
        {
            HttpReject.Throw(HttpRejectReason.InvalidChunkSize);
        }
    }

    /// <summary>Everything after the digits counts against the limit, so no part of a size line is unbounded.</summary>
    private void CountExtensionBytes(int count)
    {
        _extensionLength += count;
        if (_extensionLength > _limits.MaxChunkExtensionLength)
        {
            HttpReject.Throw(HttpRejectReason.ChunkExtensionTooLong);
        }
    }

    /// <summary>
    /// Skips chunk extensions up to the CR that ends the line. They are not interpreted, so only their
    /// bytes are checked (field-value bytes: no controls but HTAB), and their length is bounded. A CR
    /// always ends the line: a quoted-string may not hold one, so no parser can read it differently.
    /// </summary>
    private int SkipExtension(ReadOnlySpan<byte> input, int position)
    {
        ReadOnlySpan<byte> rest = input[position..];
        int stop = rest.IndexOfAny(HttpCharacters.FieldValueInvalid);
        CountExtensionBytes(stop < 0 ? rest.Length : stop);
        if (stop < 0)
        {
            return input.Length;
        }
        byte b = rest[stop];
        if (b == (byte)'\n')
        {
            HttpReject.Throw(HttpRejectReason.InvalidLineTerminator);
        }
        if (b != (byte)'\r')
        {
            HttpReject.Throw(HttpRejectReason.InvalidChunkExtension, rest[..(stop + 1)]);
        }
        _state = State.SizeLf;
        return position + stop + 1;
    }

    /// <summary>The size line ended with CRLF: data follows, or, after the last-chunk (size 0), the trailers.</summary>
    private void StartData()
    {
        if (_size == 0)
        {
            _state = State.Trailers;
            _trailerBytes = 0;
            _trailerCount = 0;
            return;
        }
        _bodyLength += _size;
        if (_bodyLength > _limits.MaxRequestBodySize)
        {
            HttpReject.Throw(HttpRejectReason.BodyTooLarge);
        }
        _chunkRemaining = _size;
        _state = State.Data;
    }

    /// <summary>
    /// trailer-section = *( field-line CRLF ), then CRLF (RFC 9112 §7.1.2): field lines under the same
    /// rules and limits as a head's, each consumed only when complete.
    /// </summary>
    private BodyDecodeStatus DecodeTrailers<THandler>(ReadOnlySpan<byte> input, int position, ref THandler handler, out int consumed)
        where THandler : struct, IHttpTrailerHandler
    {
        HttpParserLimits limits = _limits;
        while (true)
        {
            ReadOnlySpan<byte> rest = input[position..];
            int lf = rest.IndexOf((byte)'\n');
            if (lf < 0)
            {
                if (_trailerBytes + FieldLine.ShortestLength(rest) > limits.MaxHeaderBytes)
                {
                    HttpReject.Throw(HttpRejectReason.HeadersTooLarge);
                }
                consumed = position;
                return BodyDecodeStatus.NeedMoreData;
            }
            _trailerBytes = FieldLine.AddToSection(rest, lf, _trailerBytes, limits.MaxHeaderBytes);
            position += lf + 1;
            if (lf == 1)
            {
                _state = State.Done;
                consumed = position;
                return BodyDecodeStatus.Done;
            }
            if (++_trailerCount > limits.MaxHeaderCount)
            {
                HttpReject.Throw(HttpRejectReason.TooManyHeaders);
            }
            FieldLine.Parse(rest[..(lf - 1)], out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value);
            handler.OnTrailer(name, value);
        }
    }

    private struct SkipTrailers : IHttpTrailerHandler
    {
        public readonly void OnTrailer(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
        }
    }
}
