namespace Eddy.Http.Internal;

/// <summary>A content coding the server can apply to a response body (RFC 9110 §8.4.1).</summary>
internal enum ContentCoding : byte
{
    Identity,
    Gzip,
    Brotli,
}

/// <summary>Picks the coding for a response from the request's <c>Accept-Encoding</c> (RFC 9110 §12.5.3).</summary>
internal static class ContentCodings
{
    public static string Name(ContentCoding coding) => coding switch
    {
        ContentCoding.Gzip => "gzip",
        ContentCoding.Brotli => "br",
        _ => "identity",
    };

    /// <summary>
    /// The acceptable coding with the highest weight, brotli before gzip on a tie; <see cref="ContentCoding.Identity"/>
    /// when the field is absent or accepts neither. <c>q=0</c> refuses a coding, <c>*</c> stands for every coding not
    /// named, <c>x-gzip</c> is gzip, names are case-insensitive, and a malformed weight counts as 0.
    /// </summary>
    public static ContentCoding Negotiate(string? acceptEncoding)
    {
        (double brotli, double gzip) = Weights(acceptEncoding);
        if (brotli > 0 && brotli >= gzip)
        {
            return ContentCoding.Brotli;
        }
        return gzip > 0 ? ContentCoding.Gzip : ContentCoding.Identity;
    }

    /// <summary>The weights <paramref name="acceptEncoding"/> gives brotli and gzip (0: refused or not named; 1 without the field's q).</summary>
    public static (double Brotli, double Gzip) Weights(string? acceptEncoding)
    {
        if (string.IsNullOrWhiteSpace(acceptEncoding))
        {
            return (0, 0);
        }
        double gzip = -1, brotli = -1, star = -1;
        foreach (Range range in acceptEncoding.AsSpan().Split(','))
        {
            ReadOnlySpan<char> item = acceptEncoding.AsSpan(range).Trim();
            int semicolon = item.IndexOf(';');
            ReadOnlySpan<char> name = (semicolon >= 0 ? item[..semicolon] : item).Trim();
            double weight = semicolon >= 0 ? Weight(item[(semicolon + 1)..]) : 1;
            if (name.Equals("gzip", StringComparison.OrdinalIgnoreCase) || name.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
            {
                gzip = Math.Max(gzip, weight);
            }
            else if (name.Equals("br", StringComparison.OrdinalIgnoreCase))
            {
                brotli = Math.Max(brotli, weight);
            }
            else if (name.SequenceEqual("*"))
            {
                star = Math.Max(star, weight);
            }
        }
        return (Math.Max(0, brotli < 0 ? star : brotli), Math.Max(0, gzip < 0 ? star : gzip));
    }

    /// <summary>The weight of <c>q=…</c> among an item's parameters (1 without one; 0 if malformed or out of range).</summary>
    private static double Weight(ReadOnlySpan<char> parameters)
    {
        foreach (Range range in parameters.Split(';'))
        {
            ReadOnlySpan<char> parameter = parameters[range].Trim();
            if (parameter.Length >= 2 && (parameter[0] is 'q' or 'Q') && parameter[1] == '=')
            {
                return double.TryParse(parameter[2..], System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out double q) && q is >= 0 and <= 1 ? q : 0;
            }
        }
        return 1;
    }
}
