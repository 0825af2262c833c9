using System.Buffers.Text;
using System.Text;

namespace Eddy.Http.Parsing.Internal;

/// <summary>
/// Frames HTTP/1.1 responses in place, from whatever slices of the byte stream arrive (RFC 9112 §6.3):
/// the status line and the three fields that decide the framing (Content-Length, Transfer-Encoding,
/// Connection), then the body is skipped, not copied, through the kit's own body decoders
/// (<see cref="ContentLengthDecoder"/>, <see cref="ChunkedDecoder"/>). It is the client half of the parsing
/// kit: <c>eddy load http</c> needs only where each response ends, its status and whether the server closes.
/// One per connection; nothing allocated per response. Internal: it gives no field values and no body
/// bytes, so it is not yet the reader a general client would need.
/// <code>
/// Read -> (NeedMoreData)* -> Complete   (then the next response; Reset after a reconnect)
/// </code>
/// On <see cref="ResponseReadStatus.NeedMoreData"/> the body bytes seen so far are consumed; an incomplete
/// head (or chunked trailer line) is not, and must be presented again with more bytes.
/// </summary>
internal sealed class HttpResponseReader(bool isHeadRequest)
{
    /// <summary>The longest head accepted: far beyond any real server's, small enough to bound the copy of a split head.</summary>
    public const int MaxHeadBytes = 64 * 1024;

    private enum State : byte
    {
        Head,
        FixedBody,      // Content-Length, counted down by _length
        ChunkedBody,    // Transfer-Encoding: chunked, decoded by _chunked
        BodyUntilClose, // neither: the body ends when the server closes (RFC 9112 §6.3, rule 8)
    }

    private readonly ChunkedDecoder _chunked = new();
    private ContentLengthDecoder _length;
    private State _state;

    /// <summary>The status code of the response being read (or just completed).</summary>
    public int StatusCode { get; private set; }

    /// <summary>The server will close after this response: <c>Connection: close</c>, HTTP/1.0 without keep-alive, or a body that runs until the close.</summary>
    public bool IsConnectionClose { get; private set; }

    /// <summary>Between responses: a close now loses nothing that was started.</summary>
    public bool IsBetweenResponses => _state == State.Head;

    /// <summary>Forgets a response in progress: the next bytes start a new one (after a reconnect).</summary>
    public void Reset()
    {
        _state = State.Head;
        _length = default;
    }

    /// <summary>Reads from <paramref name="input"/> up to the end of one response, or all of it.</summary>
    /// <exception cref="HttpResponseFormatException">The response cannot be framed.</exception>
    public ResponseReadStatus Read(ReadOnlySpan<byte> input, out int consumed)
    {
        int position = 0;
        while (true)
        {
            switch (_state)
            {
                case State.Head:
                    int end = input[position..].IndexOf("\r\n\r\n"u8);
                    if (end < 0)
                    {
                        if (input.Length - position > MaxHeadBytes)
                        {
                            throw new HttpResponseFormatException($"response head over {MaxHeadBytes / 1024} KiB");
                        }
                        consumed = position;
                        return ResponseReadStatus.NeedMoreData;
                    }
                    ReadHead(input.Slice(position, end + 2), out long contentLength, out bool isChunked);
                    position += end + 4;
                    if (StatusCode is >= 100 and < 200 && StatusCode != 101)
                    {
                        continue; // 100 Continue, 103 Early Hints: the final response follows
                    }
                    if (isHeadRequest || StatusCode is 101 or 204 or 304)
                    {
                        consumed = position;
                        return ResponseReadStatus.Complete;
                    }
                    if (isChunked)
                    {
                        _chunked.Reset();
                        _state = State.ChunkedBody;
                    }
                    else if (contentLength >= 0)
                    {
                        if (contentLength == 0)
                        {
                            consumed = position;
                            return ResponseReadStatus.Complete;
                        }
                        _length = new ContentLengthDecoder(contentLength);
                        _state = State.FixedBody;
                    }
                    else
                    {
                        IsConnectionClose = true;
                        _state = State.BodyUntilClose;
                    }
                    break;

                case State.FixedBody:
                    _length.Decode(input[position..], out int used, out _);
                    position += used;
                    consumed = position;
                    if (!_length.IsComplete)
                    {
                        return ResponseReadStatus.NeedMoreData;
                    }
                    _state = State.Head;
                    return ResponseReadStatus.Complete;

                case State.ChunkedBody:
                    BodyDecodeStatus status;
                    try
                    {
                        status = _chunked.Decode(input[position..], out int decoded, out _);
                        position += decoded;
                    }
                    catch (HttpRejectException e)
                    {
                        throw new HttpResponseFormatException($"bad chunked body ({e.Reason})");
                    }
                    if (status == BodyDecodeStatus.Data)
                    {
                        break;
                    }
                    consumed = position;
                    if (status == BodyDecodeStatus.NeedMoreData)
                    {
                        return ResponseReadStatus.NeedMoreData;
                    }
                    _state = State.Head;
                    return ResponseReadStatus.Complete;

                default: // BodyUntilClose
                    consumed = input.Length;
                    return ResponseReadStatus.NeedMoreData;
            }
        }
    }

    /// <summary>The server closed: true when that ended a response whose body runs until the close.</summary>
    public bool TryCompleteAtEof()
    {
        if (_state != State.BodyUntilClose)
        {
            return false;
        }
        _state = State.Head;
        return true;
    }

    /// <summary>The status line and field lines, each ending in CRLF (the empty line excluded).</summary>
    private void ReadHead(ReadOnlySpan<byte> head, out long contentLength, out bool isChunked)
    {
        // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4)
        if (head.Length < 14 || !head.StartsWith("HTTP/1."u8) || head[8] != (byte)' ' || (head[12] != (byte)' ' && head[12] != (byte)'\r'))
        {
            throw new HttpResponseFormatException($"bad status line '{Printable(head)}'");
        }
        int code = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
        if (!char.IsAsciiDigit((char)head[9]) || !char.IsAsciiDigit((char)head[10]) || !char.IsAsciiDigit((char)head[11]) || code < 100)
        {
            throw new HttpResponseFormatException($"bad status code in '{Printable(head)}'");
        }
        StatusCode = code;
        bool isHttp10 = head[7] == (byte)'0';
        bool keepAlive = false;
        bool close = false;
        contentLength = -1;
        isChunked = false;

        ReadOnlySpan<byte> rest = head[(head.IndexOf((byte)'\n') + 1)..];
        while (!rest.IsEmpty)
        {
            int lf = rest.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = rest[..lf].TrimEnd((byte)'\r');
            rest = rest[(lf + 1)..];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw new HttpResponseFormatException($"bad header line '{Printable(line)}'");
            }
            ReadOnlySpan<byte> name = line[..colon];
            // Only three fields matter; the first letter rules out most lines without a comparison.
            byte first = (byte)(name[0] | 0x20);
            if (first != (byte)'c' && first != (byte)'t')
            {
                continue;
            }
            ReadOnlySpan<byte> value = line[(colon + 1)..].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                if (!Utf8Parser.TryParse(value, out long length, out int digits) || digits != value.Length || length < 0)
                {
                    throw new HttpResponseFormatException($"bad Content-Length '{Printable(value)}'");
                }
                contentLength = length;
            }
            else if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
            {
                // The final coding decides the framing (RFC 9112 §6.3, rule 4).
                isChunked = value.Length >= 7 && Ascii.EqualsIgnoreCase(value[^7..], "chunked"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, "connection"u8))
            {
                close |= ContainsToken(value, "close"u8);
                keepAlive |= ContainsToken(value, "keep-alive"u8);
            }
        }
        IsConnectionClose = close || (isHttp10 && !keepAlive);
    }

    private static bool ContainsToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        foreach (Range range in value.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(value[range].Trim(" \t"u8), token))
            {
                return true;
            }
        }
        return false;
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        string text = Encoding.Latin1.GetString(bytes[..Math.Min(bytes.Length, 60)]);
        return new string(text.Select(c => c is >= ' ' and < '\x7f' ? c : '?').ToArray()) + (bytes.Length > 60 ? "…" : "");
    }
}
