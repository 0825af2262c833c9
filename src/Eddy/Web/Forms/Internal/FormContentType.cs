using System.Text;
using Eddy.Http.Parsing;

namespace Eddy.Web.Forms.Internal;

/// <summary>The media type of a form request and the boundary of a multipart one (RFC 2046 §5.1.1, RFC 9110 §8.3.1).</summary>
internal static class FormContentType
{
    /// <summary>bchars (RFC 2046 §5.1.1): what a boundary is made of (space too, but not last).</summary>
    private static readonly System.Buffers.SearchValues<byte> s_boundaryChars =
        System.Buffers.SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'()+_,-./:=? "u8);

    public static bool IsUrlEncoded(string? contentType) => MediaType(contentType).Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);

    public static bool IsMultipart(string? contentType) => MediaType(contentType).Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);

    private static ReadOnlySpan<char> MediaType(string? contentType)
    {
        if (contentType is null)
        {
            return default;
        }
        int semicolon = contentType.IndexOf(';');
        return (semicolon < 0 ? contentType.AsSpan() : contentType.AsSpan(0, semicolon)).Trim(" \t");
    }

    /// <summary>The boundary parameter of a <c>multipart/form-data</c> Content-Type, unquoted; throws (400) when it is missing or invalid.</summary>
    public static byte[] Boundary(string? contentType)
    {
        if (!IsMultipart(contentType))
        {
            throw Invalid("the request's Content-Type is not multipart/form-data");
        }
        ReadOnlySpan<char> rest = contentType.AsSpan(contentType!.IndexOf(';') + 1);
        while (contentType.Contains(';'))
        {
            int semicolon = rest.IndexOf(';');
            ReadOnlySpan<char> parameter = (semicolon < 0 ? rest : rest[..semicolon]).Trim(" \t");
            int equals = parameter.IndexOf('=');
            if (equals > 0 && parameter[..equals].Trim(" \t").Equals("boundary", StringComparison.OrdinalIgnoreCase))
            {
                ReadOnlySpan<char> value = parameter[(equals + 1)..].Trim(" \t");
                if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
                {
                    value = value[1..^1];
                }
                byte[] boundary = Encoding.Latin1.GetBytes(value.ToString());
                if (boundary.Length is 0 or > 70 || boundary.AsSpan().ContainsAnyExcept(s_boundaryChars) || boundary[^1] == ' ')
                {
                    throw Invalid("the multipart boundary must be 1 to 70 characters of DIGIT, ALPHA and '()+_,-./:=? (not ending in a space)");
                }
                return boundary;
            }
            if (semicolon < 0)
            {
                break;
            }
            rest = rest[(semicolon + 1)..];
        }
        throw Invalid("the multipart/form-data Content-Type has no boundary parameter");
    }

    private static HttpRejectException Invalid(string message) => new(HttpRejectReason.InvalidForm, "Invalid form data: " + message + ".");
}
