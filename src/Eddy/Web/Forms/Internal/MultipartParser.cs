using System.Text;
using Eddy.Http.Parsing;

namespace Eddy.Web.Forms.Internal;

/// <summary>What <see cref="MultipartParser.Next"/> found.</summary>
internal enum MultipartEvent
{
    /// <summary>Nothing more can be decided from this input: call again with the unconsumed bytes and more after them.</summary>
    NeedMore,

    /// <summary>A part's header block was parsed: <see cref="MultipartParser.Name"/>, <see cref="MultipartParser.FileName"/> and <see cref="MultipartParser.ContentType"/> are set.</summary>
    PartStart,

    /// <summary>Bytes of the current part's body: the first <c>dataLength</c> bytes of the input.</summary>
    Data,

    /// <summary>The current part's body ended (its delimiter was consumed).</summary>
    PartEnd,

    /// <summary>The close delimiter was consumed: the form is complete; any epilogue is to be ignored.</summary>
    End,
}

/// <summary>
/// A sans-I/O parser of <c>multipart/form-data</c> (RFC 7578 over the syntax of RFC 2046 §5.1.1): it reads
/// only the bytes it is given and keeps no buffer, so the same code runs over a socket, a test's random splits
/// and the fuzzer. The caller keeps the bytes not yet consumed and passes them again, followed by more, until
/// the next event; a part's header block must fit whole in one input, which is why it is limited.
/// <code>
/// preamble  ( "--" boundary padding CRLF  headers CRLF  data )*  "--" boundary "--"  epilogue
/// Next: PartStart Data* PartEnd ... PartStart Data* PartEnd End
/// </code>
/// The delimiter is <c>CRLF "--" boundary</c>; the first may open the body without its CRLF. After the
/// boundary come optional spaces and tabs (transport padding) then CRLF, or <c>--</c> for the last. A line that
/// starts with the delimiter but goes on otherwise is refused: RFC 2046 forbids the boundary inside a part, and
/// taking it as data would let two readers disagree. Headers are <c>name: value</c> lines (no folding), decoded
/// as UTF-8; each part needs <c>Content-Disposition: form-data; name="..."</c> (RFC 7578 §4.2). Errors throw
/// <see cref="HttpRejectException"/>: <see cref="HttpRejectReason.InvalidForm"/> (400) for malformed input,
/// <see cref="HttpRejectReason.FormTooLarge"/> (413) past a limit.
/// </summary>
internal sealed class MultipartParser
{
    private readonly byte[] _delimiter; // CRLF "--" boundary
    private readonly int _maxParts;
    private readonly int _maxHeaderBytes;
    private State _state = State.Start;
    private int _parts;
    private bool _padded; // AfterBoundary: transport padding was consumed

    private enum State
    {
        Start,          // nothing consumed: the body may open with "--" boundary
        Preamble,       // looking for CRLF "--" boundary
        AfterBoundary,  // a boundary was consumed: "--", or padding and CRLF, follows
        Headers,        // a part's header block
        Body,           // a part's data, up to the next delimiter
        Epilogue,       // after the close delimiter: ignored
    }

    /// <param name="boundary">The boundary parameter of the Content-Type, unquoted (1-70 characters, RFC 2046 §5.1.1).</param>
    /// <param name="maxParts">How many parts may come; one more is refused (413).</param>
    /// <param name="maxHeaderBytes">The largest header block of a part, its blank line included (413).</param>
    public MultipartParser(ReadOnlySpan<byte> boundary, int maxParts, int maxHeaderBytes)
    {
        _delimiter = [(byte)'\r', (byte)'\n', (byte)'-', (byte)'-', .. boundary];
        _maxParts = maxParts;
        _maxHeaderBytes = maxHeaderBytes;
    }

    /// <summary>The name of the current part (its Content-Disposition's <c>name</c>).</summary>
    public string Name { get; private set; } = "";

    /// <summary>The file name of the current part, or null for a field.</summary>
    public string? FileName { get; private set; }

    /// <summary>The current part's Content-Type, or null when it sent none (text/plain by RFC 7578 §4.4).</summary>
    public string? ContentType { get; private set; }

    /// <summary>True once the close delimiter has been consumed.</summary>
    public bool IsComplete => _state == State.Epilogue;

    /// <summary>
    /// Parses from the start of <paramref name="input"/>: returns the next event, how many bytes it consumed, and
    /// for <see cref="MultipartEvent.Data"/> how many bytes of data start the input (consumed equals it; a caller
    /// may instead take any prefix of the data and call again with the rest). <see cref="MultipartEvent.NeedMore"/>
    /// may consume bytes (of a preamble, an epilogue or padding) too.
    /// </summary>
    public MultipartEvent Next(ReadOnlySpan<byte> input, out int consumed, out int dataLength)
    {
        // A step that only moves to another state (a boundary line, padding) goes on with the rest of the input,
        // so NeedMore always means that no event can be decided without more bytes. Data comes only from the
        // Body state, entered only by the PartStart event, so its bytes always start the input.
        consumed = 0;
        while (true)
        {
            State before = _state;
            MultipartEvent next = Step(input[consumed..], out int stepConsumed, out dataLength);
            consumed += stepConsumed;
            if (next != MultipartEvent.NeedMore || _state == before || _state == State.Epilogue)
            {
                return next;
            }
        }
    }

    private MultipartEvent Step(ReadOnlySpan<byte> input, out int consumed, out int dataLength)
    {
        consumed = 0;
        dataLength = 0;
        switch (_state)
        {
            case State.Start:
                return Start(input, out consumed);
            case State.Preamble:
                return Preamble(input, out consumed);
            case State.AfterBoundary:
                return AfterBoundary(input, out consumed);
            case State.Headers:
                return Headers(input, out consumed);
            case State.Body:
                return Body(input, out consumed, out dataLength);
            default:
                consumed = input.Length; // the epilogue is ignored (RFC 2046 §5.1.1)
                return MultipartEvent.NeedMore;
        }
    }

    /// <summary>The body ended: throws unless the close delimiter was seen.</summary>
    public void Finish()
    {
        if (_state != State.Epilogue)
        {
            throw Invalid(_state is State.Start or State.Preamble
                ? "the multipart body has no boundary line"
                : "the multipart body ended before its final boundary (--boundary--)");
        }
    }

    private MultipartEvent Start(ReadOnlySpan<byte> input, out int consumed)
    {
        ReadOnlySpan<byte> dashBoundary = _delimiter.AsSpan(2);
        int common = Math.Min(input.Length, dashBoundary.Length);
        if (!input[..common].SequenceEqual(dashBoundary[..common]))
        {
            _state = State.Preamble; // a preamble: the first boundary follows a CRLF
            return Preamble(input, out consumed);
        }
        if (common < dashBoundary.Length)
        {
            consumed = 0;
            return MultipartEvent.NeedMore;
        }
        _state = State.AfterBoundary;
        return AfterBoundary(input[dashBoundary.Length..], out consumed, dashBoundary.Length);
    }

    private MultipartEvent Preamble(ReadOnlySpan<byte> input, out int consumed)
    {
        int at = input.IndexOf(_delimiter);
        if (at < 0)
        {
            consumed = input.Length - PartialDelimiterLength(input);
            return MultipartEvent.NeedMore;
        }
        _state = State.AfterBoundary;
        return AfterBoundary(input[(at + _delimiter.Length)..], out consumed, at + _delimiter.Length);
    }

    private MultipartEvent AfterBoundary(ReadOnlySpan<byte> input, out int consumed, int before = 0)
    {
        // "--" right after the boundary closes; else transport padding (LWSP, RFC 2046 §5.1.1) then CRLF opens a
        // part. Padding is consumed as it comes, so _padded remembers that "--" can no longer follow.
        consumed = before;
        if (input.IsEmpty)
        {
            return MultipartEvent.NeedMore;
        }
        if (!_padded && input[0] == '-')
        {
            if (input.Length == 1)
            {
                return MultipartEvent.NeedMore;
            }
            if (input[1] != '-')
            {
                throw Invalid("a boundary line goes on after the boundary");
            }
            _state = State.Epilogue;
            consumed += 2;
            return MultipartEvent.End;
        }
        int padding = input.IndexOfAnyExcept(" \t"u8);
        if (padding < 0)
        {
            _padded = true;
            consumed += input.Length;
            return MultipartEvent.NeedMore;
        }
        if (input[padding] != '\r')
        {
            throw Invalid("a boundary line goes on after the boundary");
        }
        if (padding + 1 == input.Length)
        {
            _padded |= padding > 0;
            consumed += padding;
            return MultipartEvent.NeedMore;
        }
        if (input[padding + 1] != '\n')
        {
            throw Invalid("a boundary line ends in CR without LF");
        }
        if (_parts == _maxParts)
        {
            throw TooLarge($"more than {_maxParts} parts");
        }
        _parts++;
        _padded = false;
        _state = State.Headers;
        consumed += padding + 2;
        return MultipartEvent.NeedMore;
    }

    private MultipartEvent Headers(ReadOnlySpan<byte> input, out int consumed)
    {
        consumed = 0;
        int end = input.StartsWith("\r\n"u8) ? 0 : input.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            if (input.Length >= _maxHeaderBytes)
            {
                throw TooLarge($"a part's header block is over {_maxHeaderBytes} bytes");
            }
            return MultipartEvent.NeedMore;
        }
        int blockLength = end == 0 ? 2 : end + 4;
        if (blockLength > _maxHeaderBytes)
        {
            throw TooLarge($"a part's header block is over {_maxHeaderBytes} bytes");
        }
        ParseHeaders(end == 0 ? default : input[..(end + 2)]);
        consumed = blockLength;
        _state = State.Body;
        return MultipartEvent.PartStart;
    }

    private void ParseHeaders(ReadOnlySpan<byte> block)
    {
        string? name = null;
        string? fileName = null;
        string? contentType = null;
        bool sawDisposition = false;
        while (!block.IsEmpty)
        {
            int eol = block.IndexOf("\r\n"u8);
            ReadOnlySpan<byte> line = block[..eol];
            block = block[(eol + 2)..];
            if (line.IndexOfAny((byte)'\r', (byte)'\n') >= 0 || line.IndexOfAnyInRange((byte)0, (byte)8) >= 0 || line.IndexOfAnyInRange((byte)10, (byte)31) >= 0)
            {
                throw Invalid("a part header holds a control character");
            }
            if (line.Length > 0 && line[0] is (byte)' ' or (byte)'\t')
            {
                throw Invalid("a part header is folded (obsolete line folding is not accepted)");
            }
            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw Invalid("a part header line has no name and colon");
            }
            ReadOnlySpan<byte> fieldName = line[..colon];
            if (fieldName.IndexOfAny(" \t"u8) >= 0)
            {
                throw Invalid("a part header name holds whitespace");
            }
            ReadOnlySpan<byte> value = line[(colon + 1)..].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(fieldName, "Content-Disposition"u8))
            {
                if (sawDisposition)
                {
                    throw Invalid("a part has two Content-Disposition headers");
                }
                sawDisposition = true;
                ParseDisposition(value, out name, out fileName);
            }
            else if (Ascii.EqualsIgnoreCase(fieldName, "Content-Type"u8))
            {
                contentType = Encoding.UTF8.GetString(value);
            }
            // Other headers (Content-Transfer-Encoding, deprecated by RFC 7578 §4.7) are ignored.
        }
        if (!sawDisposition)
        {
            throw Invalid("a part has no Content-Disposition header");
        }
        Name = name!;
        FileName = fileName;
        ContentType = contentType;
    }

    /// <summary><c>form-data; name="field"; filename="a.txt"</c>: parameters in any order, values quoted or tokens.</summary>
    private static void ParseDisposition(ReadOnlySpan<byte> value, out string? name, out string? fileName)
    {
        name = null;
        fileName = null;
        int semicolon = value.IndexOf((byte)';');
        ReadOnlySpan<byte> type = (semicolon < 0 ? value : value[..semicolon]).Trim(" \t"u8);
        if (!Ascii.EqualsIgnoreCase(type, "form-data"u8))
        {
            throw Invalid("a part's Content-Disposition is not form-data");
        }
        ReadOnlySpan<byte> rest = semicolon < 0 ? default : value[(semicolon + 1)..];
        while (true)
        {
            rest = rest.TrimStart(" \t"u8);
            if (rest.IsEmpty)
            {
                break;
            }
            int equals = rest.IndexOf((byte)'=');
            if (equals <= 0)
            {
                throw Invalid("a Content-Disposition parameter has no value");
            }
            ReadOnlySpan<byte> parameter = rest[..equals].Trim(" \t"u8);
            rest = rest[(equals + 1)..].TrimStart(" \t"u8);
            string parsed = TakeParameterValue(ref rest);
            if (Ascii.EqualsIgnoreCase(parameter, "name"u8))
            {
                name ??= parsed;
            }
            else if (Ascii.EqualsIgnoreCase(parameter, "filename"u8))
            {
                fileName ??= parsed;
            }
            rest = rest.TrimStart(" \t"u8);
            if (!rest.IsEmpty)
            {
                if (rest[0] != ';')
                {
                    throw Invalid("a Content-Disposition parameter is followed by something other than ';'");
                }
                rest = rest[1..];
            }
        }
        if (name is null)
        {
            throw Invalid("a part's Content-Disposition has no name");
        }
    }

    /// <summary>A quoted-string (backslash escapes one character) or a token, up to ';'.</summary>
    private static string TakeParameterValue(ref ReadOnlySpan<byte> rest)
    {
        if (rest.IsEmpty || rest[0] != '"')
        {
            int end = rest.IndexOf((byte)';');
            ReadOnlySpan<byte> token = (end < 0 ? rest : rest[..end]).TrimEnd(" \t"u8);
            if (token.IndexOfAny("\" \t"u8) >= 0)
            {
                throw Invalid("an unquoted Content-Disposition parameter holds a quote or whitespace");
            }
            rest = end < 0 ? default : rest[end..];
            return Encoding.UTF8.GetString(token);
        }
        Span<byte> unescaped = rest.Length <= 512 ? stackalloc byte[rest.Length] : new byte[rest.Length];
        int length = 0;
        for (int i = 1; i < rest.Length; i++)
        {
            byte b = rest[i];
            if (b == '"')
            {
                rest = rest[(i + 1)..];
                return Encoding.UTF8.GetString(unescaped[..length]);
            }
            if (b == '\\' && i + 1 < rest.Length)
            {
                b = rest[++i];
            }
            unescaped[length++] = b;
        }
        throw Invalid("a quoted Content-Disposition parameter has no closing quote");
    }

    private MultipartEvent Body(ReadOnlySpan<byte> input, out int consumed, out int dataLength)
    {
        int at = input.IndexOf(_delimiter);
        if (at == 0)
        {
            // The part ends here; what follows the boundary (padding and CRLF, or "--") is the next call's.
            dataLength = 0;
            consumed = _delimiter.Length;
            _state = State.AfterBoundary;
            return MultipartEvent.PartEnd;
        }
        dataLength = at > 0 ? at : input.Length - PartialDelimiterLength(input);
        consumed = dataLength;
        return dataLength > 0 ? MultipartEvent.Data : MultipartEvent.NeedMore;
    }

    /// <summary>How many bytes at the end of <paramref name="input"/> could begin a delimiter (they must wait for more input).</summary>
    private int PartialDelimiterLength(ReadOnlySpan<byte> input)
    {
        int from = Math.Max(0, input.Length - (_delimiter.Length - 1));
        for (int i = from; i < input.Length; i++)
        {
            if (input[i] == '\r' && _delimiter.AsSpan().StartsWith(input[i..]))
            {
                return input.Length - i;
            }
        }
        return 0;
    }

    private static HttpRejectException Invalid(string message) => new(HttpRejectReason.InvalidForm, "Invalid form data: " + message + ".");

    private static HttpRejectException TooLarge(string message) => new(HttpRejectReason.FormTooLarge, "Form data too large: " + message + ".");
}
