using System.Runtime.CompilerServices;
using Eddy.Http.Parsing.Internal;

namespace Eddy.Http.Parsing;

/// <summary>
/// Decodes a chunked body (RFC 9112 §7.1): a resumable state machine over spans that returns the data
/// as slices of its input, without copying, so a body can go to its consumer piece by piece whatever
/// the split of the input. One per connection; <see cref="Reset"/> before each chunked body.
/// <code>
/// chunked-body = *chunk last-chunk trailer-section CRLF
/// chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
/// </code>
/// Call <see cref="Decode{THandler}(ReadOnlySpan{byte}, int, ref THandler, out int, out ReadOnlySpan{byte})"/> in a loop, advancing the input by <c>consumed</c> each time:
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
        ExtensionName,  // after ';': BWS, then the first byte of a chunk-ext-name
        InName,         // in a chunk-ext-name
        AfterName,      // BWS after a name: only '=' or ';' may follow
        ValueStart,     // after '=': BWS, then a token or a quoted-string
        InToken,        // in a token value
        InQuoted,       // in a quoted-string value
        QuotedPair,     // after a backslash in a quoted-string
        AfterValue,     // after a value (and BWS): only BWS, ';' or CR
        AfterValueSpace,// BWS after a value: only more BWS or ';' may follow
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

    /// <summary>A decoder under <see cref="HttpParserLimits.Default"/>.</summary>
    public ChunkedDecoder()
        : this(HttpParserLimits.Default)
    {
    }

    /// <summary>Uses <see cref="HttpParserLimits.MaxChunkExtensionLength"/>, and the header limits for the trailer section.</summary>
    public ChunkedDecoder(HttpParserLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _limits = limits;
    }

    /// <summary>The last-chunk, trailers and final CRLF have been consumed.</summary>
    public bool IsComplete => _state == State.Done;

    /// <summary>The data bytes announced by the chunk-sizes read so far.</summary>
    public long BodyLength => _bodyLength;

    /// <summary>
    /// The most data bytes the body may hold, or null for no limit: a chunk-size that takes the body past it is
    /// rejected (413) as soon as its line ends, before its data. Set it before decoding a body.
    /// </summary>
    public long? MaxBodySize { get; set; }

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

    /// <summary>As <see cref="Decode{THandler}(ReadOnlySpan{byte}, int, ref THandler, out int, out ReadOnlySpan{byte})"/>, with trailer fields checked and dropped.</summary>
    public BodyDecodeStatus Decode(ReadOnlySpan<byte> input, out int consumed, out ReadOnlySpan<byte> data)
    {
        var skip = default(SkipTrailers);
        return Decode(input, int.MaxValue, ref skip, out consumed, out data);
    }

    /// <summary>As <see cref="Decode{THandler}(ReadOnlySpan{byte}, int, ref THandler, out int, out ReadOnlySpan{byte})"/>, with no cap on the data returned.</summary>
    public BodyDecodeStatus Decode<THandler>(ReadOnlySpan<byte> input, scoped ref THandler handler, out int consumed, out ReadOnlySpan<byte> data)
        where THandler : struct, IHttpTrailerHandler =>
        Decode(input, int.MaxValue, ref handler, out consumed, out data);

    /// <summary>
    /// Decodes from the start of <paramref name="input"/> up to the next slice of data, the end of the
    /// input, or the end of the body. <see cref="BodyDecodeStatus.Data"/>: <paramref name="data"/> is a
    /// non-empty slice of <paramref name="input"/>, and the last bytes of the <paramref name="consumed"/>
    /// ones. <see cref="BodyDecodeStatus.NeedMoreData"/>: call again with <c>input[consumed..]</c> and
    /// more. <see cref="BodyDecodeStatus.Done"/>: the body ended; <c>input[consumed..]</c> is the next
    /// request. Trailer fields go to <paramref name="handler"/> as they are parsed. At most
    /// <paramref name="maxData"/> bytes of data come back from one call (a reader's buffer size); the rest of
    /// the chunk waits for the next call.
    /// </summary>
    /// <exception cref="HttpRejectException">The body is malformed or exceeds the limits.</exception>
    public BodyDecodeStatus Decode<THandler>(ReadOnlySpan<byte> input, int maxData, scoped ref THandler handler, out int consumed, out ReadOnlySpan<byte> data)
        where THandler : struct, IHttpTrailerHandler
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxData);
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
                int count = (int)Math.Min(_chunkRemaining, Math.Min(available, maxData));
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
            if (state >= State.ExtensionName && state <= State.AfterValueSpace)
            {
                StepExtension(input[position++]);
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
                    _state = State.ExtensionName;
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
            _state = State.ExtensionName;
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
    /// One byte of the chunk extensions (RFC 9112 §7.1.1), which are checked against their grammar and
    /// skipped, not interpreted:
    /// <code>
    /// chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    /// chunk-ext-name = token
    /// chunk-ext-val  = token / quoted-string
    /// </code>
    /// A bare <c>;</c>, a name that is not a token, or a value that is neither a token nor a whole
    /// quoted-string is rejected: a lenient parser here is one a proxy in front may disagree with. Every
    /// byte counts against the limit, so no part of a size line is unbounded. A CR ends the line wherever
    /// the grammar allows it (not inside a quoted-string, which may not hold one).
    /// </summary>
    private void StepExtension(byte b)
    {
        if (b != (byte)'\r')
        {
            CountExtensionBytes(1); // the bytes between the digits and the CR, as a line's limit counts them
        }
        if (b == (byte)'\n')
        {
            HttpReject.Throw(HttpRejectReason.InvalidLineTerminator);
        }
        bool token = HttpCharacters.Token.Contains(b);
        bool space = HttpCharacters.IsWhitespace(b);
        switch (_state)
        {
            case State.ExtensionName:
                _state = token ? State.InName : space ? State.ExtensionName : Invalid(b);
                break;
            case State.InName:
                _state = token ? State.InName : space ? State.AfterName : b == (byte)'=' ? State.ValueStart : EndOfExtension(b);
                break;
            case State.AfterName:
                _state = space ? State.AfterName : b == (byte)'=' ? State.ValueStart : b == (byte)';' ? State.ExtensionName : Invalid(b);
                break;
            case State.ValueStart:
                _state = token ? State.InToken : space ? State.ValueStart : b == (byte)'"' ? State.InQuoted : Invalid(b);
                break;
            case State.InToken:
                _state = token ? State.InToken : space ? State.AfterValueSpace : EndOfExtension(b);
                break;
            case State.InQuoted:
                // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
                _state = b == (byte)'"' ? State.AfterValue : b == (byte)'\\' ? State.QuotedPair : IsQuotedText(b) ? State.InQuoted : Invalid(b);
                break;
            case State.QuotedPair:
                // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                _state = IsQuotedText(b) || b == (byte)'"' || b == (byte)'\\' ? State.InQuoted : Invalid(b);
                break;
            case State.AfterValue:
                _state = space ? State.AfterValueSpace : EndOfExtension(b);
                break;
            case State.AfterValueSpace:
                _state = space ? State.AfterValueSpace : b == (byte)';' ? State.ExtensionName : Invalid(b);
                break;
        }
    }

    /// <summary>After a name or a value: another extension, or the end of the line.</summary>
    private static State EndOfExtension(byte b) => b switch
    {
        (byte)';' => State.ExtensionName,
        (byte)'\r' => State.SizeLf,
        _ => Invalid(b),
    };

    private static bool IsQuotedText(byte b) => b == (byte)'\t' || (b >= 0x20 && b != 0x7F);

    private static State Invalid(byte b)
    {
        HttpReject.Throw(HttpRejectReason.InvalidChunkExtension, [b]);
        return default;
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
        if (_bodyLength > MaxBodySize)
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
