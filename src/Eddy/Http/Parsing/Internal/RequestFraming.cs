using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;

namespace Eddy.Http.Parsing.Internal;

/// <summary>
/// Collects the fields that frame a request (RFC 9112 §6.3) and manage its connection while the field
/// lines are parsed, then checks them together in <see cref="Complete"/>. A mutable struct, local to one
/// <see cref="HttpParser.TryParseHead"/> call.
/// </summary>
internal struct RequestFraming
{
    private readonly HttpVerb _verb;
    private readonly HttpProtocolVersion _version;
    private readonly HttpTargetForm _targetForm;
    private long _contentLength;        // -1 until a Content-Length is seen
    private int _hostCount;
    private int _transferCodings;       // codings named by all Transfer-Encoding lines together
    private bool _hasTransferEncoding;
    private bool _chunkedIsLast;        // the last coding named so far is chunked
    private bool _chunkedNotLast;       // a chunked coding was followed by another coding
    private bool _unknownCoding;        // a coding other than chunked was named
    private bool _close;
    private bool _keepAlive;
    private bool _connectionUpgrade;
    private bool _expectContinue;
    private bool _hasUpgrade;

    public RequestFraming(HttpVerb verb, HttpProtocolVersion version, HttpTargetForm targetForm)
    {
        _verb = verb;
        _version = version;
        _targetForm = targetForm;
        _contentLength = -1;
    }

    /// <summary>Looks at one field line; most names are not about framing and cost a length compare.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Observe(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        // Field names are case-insensitive (RFC 9110 §5.1).
        switch (name.Length)
        {
            case 4:
                if (IsName(name, "host"u8))
                {
                    OnHost(value);
                }
                break;
            case 6:
                if (IsName(name, "expect"u8))
                {
                    OnExpect(value);
                }
                break;
            case 7:
                if (IsName(name, "upgrade"u8))
                {
                    _hasUpgrade = true;
                }
                break;
            case 10:
                if (IsName(name, "connection"u8))
                {
                    OnConnection(value);
                }
                break;
            case 14:
                if (IsName(name, "content-length"u8))
                {
                    OnContentLength(value);
                }
                break;
            case 17:
                if (IsName(name, "transfer-encoding"u8))
                {
                    OnTransferEncoding(value);
                }
                break;
        }
    }

    /// <summary>
    /// <paramref name="name"/> (a validated token of the same length) is <paramref name="lowercase"/> in any case,
    /// compared a word at a time: setting bit 0x20 lowers a letter and changes no other token byte into a letter or
    /// '-' (only CR would become '-', and CR is not a token byte), so the folded words are equal exactly when the
    /// names are equal but for letter case.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsName(ReadOnlySpan<byte> name, ReadOnlySpan<byte> lowercase)
    {
        Debug.Assert(name.Length == lowercase.Length && name.Length >= sizeof(uint));
        const ulong Fold = 0x2020202020202020;
        const uint Fold4 = 0x20202020;
        if (name.Length < sizeof(ulong))
        {
            return ((BinaryPrimitives.ReadUInt32LittleEndian(name) | Fold4) == BinaryPrimitives.ReadUInt32LittleEndian(lowercase)) &&
                ((BinaryPrimitives.ReadUInt32LittleEndian(name[^4..]) | Fold4) == BinaryPrimitives.ReadUInt32LittleEndian(lowercase[^4..]));
        }
        for (int i = 0; i < name.Length - sizeof(ulong); i += sizeof(ulong))
        {
            if ((BinaryPrimitives.ReadUInt64LittleEndian(name[i..]) | Fold) != BinaryPrimitives.ReadUInt64LittleEndian(lowercase[i..]))
            {
                return false;
            }
        }
        return (BinaryPrimitives.ReadUInt64LittleEndian(name[^8..]) | Fold) == BinaryPrimitives.ReadUInt64LittleEndian(lowercase[^8..]);
    }

    /// <summary>The checks that need every field line, then the result.</summary>
    public readonly HttpRequestHead Complete(int headerCount)
    {
        // RFC 9112 §3.2: 400 for an HTTP/1.1 request without Host, and for any request with more than one.
        if (_hostCount != 1)
        {
            if (_hostCount > 1)
            {
                HttpReject.Throw(HttpRejectReason.DuplicateHost);
            }
            if (_version == HttpProtocolVersion.Http11)
            {
                HttpReject.Throw(HttpRejectReason.MissingHost);
            }
        }

        HttpBodyKind body = HttpBodyKind.None;
        long length = 0;
        if (_hasTransferEncoding)
        {
            CheckTransferEncoding();
            body = HttpBodyKind.Chunked;
            length = -1;
        }
        else if (_contentLength >= 0)
        {
            body = HttpBodyKind.ContentLength;
            length = _contentLength;
        }

        bool http11 = _version == HttpProtocolVersion.Http11;
        return new HttpRequestHead
        {
            Verb = _verb,
            Version = _version,
            TargetForm = _targetForm,
            BodyKind = body,
            ContentLength = length,
            // RFC 9112 §9.3: persistent by default in 1.1; in 1.0 only with keep-alive. close wins.
            KeepAlive = !_close && (http11 || _keepAlive),
            ExpectContinue = _expectContinue && http11,
            HasUpgrade = _hasUpgrade,
            ConnectionUpgrade = _connectionUpgrade,
            HeaderCount = headerCount,
        };
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void CheckTransferEncoding()
    {
        // RFC 9112 §6.3 rule 3: both fields "ought to be handled as an error" - the smuggling case.
        if (_contentLength >= 0)
        {
            HttpReject.Throw(HttpRejectReason.TransferEncodingWithContentLength);
        }
        // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
        if (_version == HttpProtocolVersion.Http10)
        {
            HttpReject.Throw(HttpRejectReason.TransferEncodingInHttp10);
        }
        // RFC 9112 §6.3 rule 4: chunked not final MUST be 400. §7: chunked MUST NOT be applied twice.
        if (_transferCodings == 0 || !_chunkedIsLast || _chunkedNotLast)
        {
            HttpReject.Throw(HttpRejectReason.ChunkedNotFinal);
        }
        // RFC 9112 §6.1: a coding we do not implement SHOULD be 501. We implement none but chunked.
        if (_unknownCoding)
        {
            HttpReject.Throw(HttpRejectReason.UnsupportedTransferCoding);
        }
    }

    private void OnHost(ReadOnlySpan<byte> value)
    {
        _hostCount++;
        // Empty is allowed (RFC 9112 §3.2, for a target URI without authority).
        if (!value.IsEmpty && !RequestLineParser.IsHostAndOptionalPort(value))
        {
            HttpReject.Throw(HttpRejectReason.InvalidHost);
        }
    }

    /// <summary>
    /// Content-Length = 1*DIGIT (RFC 9110 §8.6). A list of identical values ("5, 5", as a proxy that
    /// joined duplicates would send) and identical duplicate lines are accepted as one value, which
    /// §8.6 allows; differing values are 400. No sign, space, hex or empty element.
    /// </summary>
    private void OnContentLength(ReadOnlySpan<byte> value)
    {
        while (true)
        {
            int comma = value.IndexOf((byte)',');
            long length = ParseDigits(HttpCharacters.TrimWhitespace(comma < 0 ? value : value[..comma]));
            if (_contentLength >= 0 && _contentLength != length)
            {
                HttpReject.Throw(HttpRejectReason.ConflictingContentLength);
            }
            _contentLength = length;
            if (comma < 0)
            {
                return;
            }
            value = value[(comma + 1)..];
        }
    }

    private static long ParseDigits(ReadOnlySpan<byte> digits)
    {
        if (digits.IsEmpty)
        {
            HttpReject.Throw(HttpRejectReason.InvalidContentLength);
        }
        long result = 0;
        foreach (byte b in digits)
        {
            uint digit = (uint)(b - '0');
            if (digit > 9 || result > (long.MaxValue - digit) / 10)
            {
                HttpReject.Throw(HttpRejectReason.InvalidContentLength, digits);
            }
            result = result * 10 + digit;
        }
        return result;
    }

    /// <summary>
    /// Transfer-Encoding = #transfer-coding (RFC 9112 §6.1); lines add up to one list (RFC 9110 §5.3).
    /// Empty list elements are ignored, as RFC 9110 §5.6.1 requires. A coding with parameters
    /// ("chunked;x=1") is not chunked.
    /// </summary>
    private void OnTransferEncoding(ReadOnlySpan<byte> value)
    {
        _hasTransferEncoding = true;
        while (true)
        {
            int comma = value.IndexOf((byte)',');
            ReadOnlySpan<byte> coding = HttpCharacters.TrimWhitespace(comma < 0 ? value : value[..comma]);
            if (!coding.IsEmpty)
            {
                _transferCodings++;
                if (_chunkedIsLast)
                {
                    _chunkedNotLast = true;
                }
                _chunkedIsLast = Ascii.EqualsIgnoreCase(coding, "chunked"u8);
                _unknownCoding |= !_chunkedIsLast;
            }
            if (comma < 0)
            {
                return;
            }
            value = value[(comma + 1)..];
        }
    }

    /// <summary>Connection = #connection-option (RFC 9110 §7.6.1), tokens compared case-insensitively.</summary>
    private void OnConnection(ReadOnlySpan<byte> value)
    {
        while (true)
        {
            int comma = value.IndexOf((byte)',');
            ReadOnlySpan<byte> option = HttpCharacters.TrimWhitespace(comma < 0 ? value : value[..comma]);
            if (Ascii.EqualsIgnoreCase(option, "close"u8))
            {
                _close = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "keep-alive"u8))
            {
                _keepAlive = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "upgrade"u8))
            {
                _connectionUpgrade = true;
            }
            if (comma < 0)
            {
                return;
            }
            value = value[(comma + 1)..];
        }
    }

    /// <summary>Expect = #expectation (RFC 9110 §10.1.1); "100-continue" is case-insensitive. Others are ignored (417 is optional).</summary>
    private void OnExpect(ReadOnlySpan<byte> value)
    {
        while (true)
        {
            int comma = value.IndexOf((byte)',');
            if (Ascii.EqualsIgnoreCase(HttpCharacters.TrimWhitespace(comma < 0 ? value : value[..comma]), "100-continue"u8))
            {
                _expectContinue = true;
            }
            if (comma < 0)
            {
                return;
            }
            value = value[(comma + 1)..];
        }
    }
}
