using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Eddy.Http.Parsing.Internal;

/// <summary>
/// <c>request-line = method SP request-target SP HTTP-version</c> (RFC 9112 §3), strictly: exactly one
/// SP between the parts and no other whitespace anywhere. RFC 9112 §3 lets a recipient split on any
/// whitespace; we don't, because a parser that splits differently from the proxy in front of it sees a
/// different target.
/// </summary>
internal static class RequestLineParser
{
    /// <summary>Parses and validates <paramref name="line"/> (without its CRLF).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static HttpRequestLine Parse(ReadOnlySpan<byte> line)
    {
        int space;
        HttpVerb verb;
        ReadOnlySpan<byte> method;
        if (line.Length > 4 && BinaryPrimitives.ReadUInt32LittleEndian(line) == GetSpace)
        {
            // Most requests are GETs: one compare instead of a search and a match.
            space = 3;
            verb = HttpVerb.Get;
            method = line[..3];
        }
        else
        {
            space = line.IndexOf((byte)' ');
            method = space < 0 ? line : line[..space];
            verb = GetVerb(method);
            if (verb == HttpVerb.Extension)
            {
                ValidateExtensionMethod(method, line);
            }
            if (space < 0)
            {
                HttpReject.Throw(HttpRejectReason.InvalidRequestLine, line);
            }
        }

        // One scan finds the target's end and validates it: in a good line the first byte that is not a
        // target byte is the SP before the version (SP is not one).
        ReadOnlySpan<byte> rest = line[(space + 1)..];
        space = rest.IndexOfAnyExcept(HttpCharacters.Target);
        if ((uint)space >= (uint)rest.Length || rest[space] != (byte)' ' || space == 0)
        {
            RejectTarget(rest, line);
        }
        ReadOnlySpan<byte> target = rest[..space];
        ReadOnlySpan<byte> version = rest[(space + 1)..];
        // The version before the target's form, so an HTTP/2 preface ("PRI * HTTP/2.0") gets 505, not 400.
        HttpProtocolVersion httpVersion;
        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            httpVersion = HttpProtocolVersion.Http11;
        }
        else if (version.SequenceEqual("HTTP/1.0"u8))
        {
            httpVersion = HttpProtocolVersion.Http10;
        }
        else
        {
            RejectVersion(version, line);
            httpVersion = default;
        }

        HttpTargetForm form = target[0] == (byte)'/' ? HttpTargetForm.Origin : GetOtherTargetForm(verb, target, line);
        if (verb == HttpVerb.Connect && form != HttpTargetForm.Authority)
        {
            // RFC 9112 §3.2.3: CONNECT takes the authority-form, and only CONNECT does.
            HttpReject.Throw(HttpRejectReason.InvalidRequestTarget, line);
        }
        return new HttpRequestLine(verb, method, target, form, httpVersion);
    }

    private const uint GetSpace = 'G' | ('E' << 8) | ('T' << 16) | (' ' << 24);

    /// <summary>
    /// Why the part after the method is not "target SP version": no SP at all or an empty target is a bad
    /// request-line; otherwise a byte before the SP is not a target byte. (As the two searches it replaces,
    /// one for the SP and one for a bad byte in front of it, would judge.)
    /// </summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RejectTarget(ReadOnlySpan<byte> rest, ReadOnlySpan<byte> line)
    {
        int space = rest.IndexOf((byte)' ');
        if (space <= 0)
        {
            HttpReject.Throw(HttpRejectReason.InvalidRequestLine, line);
        }
        HttpReject.Throw(HttpRejectReason.InvalidRequestTarget, line);
    }

    /// <summary>The known methods by length, then bytes; case-sensitive (RFC 9110 §9.1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static HttpVerb GetVerb(ReadOnlySpan<byte> method)
    {
        switch (method.Length)
        {
            case 3:
                if (method.SequenceEqual("GET"u8))
                {
                    return HttpVerb.Get;
                }

                if (method.SequenceEqual("PUT"u8))
                {
                    return HttpVerb.Put;
                }

                break;
            case 4:
                if (method.SequenceEqual("POST"u8))
                {
                    return HttpVerb.Post;
                }

                if (method.SequenceEqual("HEAD"u8))
                {
                    return HttpVerb.Head;
                }

                break;
            case 5:
                if (method.SequenceEqual("PATCH"u8))
                {
                    return HttpVerb.Patch;
                }

                if (method.SequenceEqual("TRACE"u8))
                {
                    return HttpVerb.Trace;
                }

                break;
            case 6:
                if (method.SequenceEqual("DELETE"u8))
                {
                    return HttpVerb.Delete;
                }

                break;
            case 7:
                if (method.SequenceEqual("OPTIONS"u8))
                {
                    return HttpVerb.Options;
                }

                if (method.SequenceEqual("CONNECT"u8))
                {
                    return HttpVerb.Connect;
                }

                break;
        }
        return HttpVerb.Extension;
    }

    /// <summary>An extension method must still be a token (RFC 9110 §9.1).</summary>
    public static void ValidateExtensionMethod(ReadOnlySpan<byte> method, ReadOnlySpan<byte> line)
    {
        if (method.IsEmpty)
        {
            // The line starts with SP.
            HttpReject.Throw(HttpRejectReason.InvalidRequestLine, line);
        }
        if (method.IndexOfAnyExcept(HttpCharacters.Token) >= 0)
        {
            HttpReject.Throw(HttpRejectReason.InvalidMethod, line);
        }
    }

    /// <summary>HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3), case-sensitive: well-formed but not 1.x is 505, anything else 400.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RejectVersion(ReadOnlySpan<byte> version, ReadOnlySpan<byte> line)
    {
        if (version.Contains((byte)' '))
        {
            // A third space: a target with a space in it, or a trailing space.
            HttpReject.Throw(HttpRejectReason.InvalidRequestLine, line);
        }
        if (version.Length == 8 && version.StartsWith("HTTP/"u8) &&
            HttpCharacters.IsDigit(version[5]) && version[6] == (byte)'.' && HttpCharacters.IsDigit(version[7]))
        {
            HttpReject.Throw(HttpRejectReason.UnsupportedVersion, version);
        }
        HttpReject.Throw(HttpRejectReason.InvalidVersion, line);
    }

    /// <summary>asterisk-form, authority-form or absolute-form: rare, so out of line.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static HttpTargetForm GetOtherTargetForm(HttpVerb verb, ReadOnlySpan<byte> target, ReadOnlySpan<byte> line)
    {
        if (target.Length == 1 && target[0] == (byte)'*')
        {
            // RFC 9112 §3.2.4: only for a server-wide OPTIONS.
            if (verb != HttpVerb.Options)
            {
                HttpReject.Throw(HttpRejectReason.InvalidRequestTarget, line);
            }
            return HttpTargetForm.Asterisk;
        }
        if (verb == HttpVerb.Connect)
        {
            if (!IsAuthorityForm(target))
            {
                HttpReject.Throw(HttpRejectReason.InvalidRequestTarget, line);
            }
            return HttpTargetForm.Authority;
        }
        if (!IsAbsoluteForm(target))
        {
            HttpReject.Throw(HttpRejectReason.InvalidRequestTarget, line);
        }
        return HttpTargetForm.Absolute;
    }

    /// <summary>
    /// <c>authority-form = uri-host ":" port</c> (RFC 9112 §3.2.3): the port is required, there is no
    /// userinfo, and an IPv6 host is bracketed.
    /// </summary>
    private static bool IsAuthorityForm(ReadOnlySpan<byte> target)
    {
        int colon = target.LastIndexOf((byte)':');
        if (colon <= 0 || !IsPort(target[(colon + 1)..]))
        {
            return false;
        }
        return IsHost(target[..colon]);
    }

    /// <summary>
    /// <c>absolute-URI</c> (RFC 9112 §3.2.2), restricted to the hierarchical <c>scheme "://" authority
    /// [path] ["?" query]</c> of http and https URIs: a non-empty host (RFC 9110 §4.2.1) and no userinfo
    /// (RFC 9110 §4.2.4 says to treat it as an error).
    /// </summary>
    private static bool IsAbsoluteForm(ReadOnlySpan<byte> target)
    {
        int colon = target.IndexOf((byte)':');
        if (colon <= 0 || (uint)((target[0] | 0x20) - 'a') > 'z' - 'a' ||
            target[1..colon].IndexOfAnyExcept(HttpCharacters.Scheme) >= 0)
        {
            return false;
        }
        ReadOnlySpan<byte> rest = target[(colon + 1)..];
        if (!rest.StartsWith("//"u8))
        {
            return false;
        }
        rest = rest[2..];
        int end = rest.IndexOfAny((byte)'/', (byte)'?');
        ReadOnlySpan<byte> authority = end < 0 ? rest : rest[..end];
        return IsHostAndOptionalPort(authority);
    }

    /// <summary><c>uri-host [":" port]</c>, as in an absolute-form authority and the Host field (empty port allowed, RFC 3986 §3.2.3).</summary>
    public static bool IsHostAndOptionalPort(ReadOnlySpan<byte> authority)
    {
        // One backward pass over the port's digits: a ':' where they stop splits off the port. Any other
        // ':' (in a host that is not an IP-literal, or before a port that is not all digits) makes the host
        // fail its check, so this is the last ':' that is not inside brackets, as RFC 3986 §3.2 splits.
        int i = authority.Length - 1;
        while (i >= 0 && HttpCharacters.IsDigit(authority[i]))
        {
            i--;
        }
        if (i >= 0 && authority[i] == (byte)':')
        {
            authority = authority[..i];
        }
        return IsHost(authority);
    }

    /// <summary><c>uri-host = IP-literal / IPv4address / reg-name</c> (RFC 3986 §3.2.2), non-empty.</summary>
    private static bool IsHost(ReadOnlySpan<byte> host)
    {
        if (host.IsEmpty)
        {
            return false;
        }
        if (host[0] == (byte)'[')
        {
            return host.Length > 2 && host[^1] == (byte)']' &&
                host[1..^1].IndexOfAnyExcept(HttpCharacters.IpLiteral) < 0;
        }
        return host.IndexOfAnyExcept(HttpCharacters.RegName) < 0;
    }

    private static bool IsPort(ReadOnlySpan<byte> port) =>
        !port.IsEmpty && port.IndexOfAnyExcept(HttpCharacters.Digits) < 0;
}
