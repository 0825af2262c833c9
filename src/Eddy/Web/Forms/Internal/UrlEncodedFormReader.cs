using System.Buffers;
using System.Web;
using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.Web.Forms.Internal;

/// <summary>
/// Reads an <c>application/x-www-form-urlencoded</c> body as it arrives (WHATWG URL §5.1): <c>name=value</c>
/// pairs split on <c>&amp;</c>, <c>+</c> as space, percent-escapes as UTF-8. Only the pair being read is held, so
/// memory is bounded by <see cref="FormOptions.MaxFieldSize"/>, whatever the body's size. As the standard asks,
/// nothing is malformed: a pair without <c>=</c> is a name with an empty value, an empty pair is skipped, a bad
/// escape stays as written and bad UTF-8 becomes U+FFFD. Limits: <see cref="FormOptions.MaxParts"/> pairs, and
/// names and values of at most <see cref="FormOptions.MaxFieldSize"/> bytes each (as encoded).
/// </summary>
internal static class UrlEncodedFormReader
{
    public static async ValueTask<List<KeyValuePair<string, string>>> ReadAsync(HttpRequest request, FormOptions options, CancellationToken cancellationToken)
    {
        var fields = new List<KeyValuePair<string, string>>();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var pair = new ArrayBufferWriter<byte>(256);
        long total = 0;
        try
        {
            while (true)
            {
                int n = await request.Body.ReadAsync(buffer, cancellationToken);
                total += n;
                if (total > options.MaxTotalSize)
                {
                    throw new HttpRejectException(HttpRejectReason.FormTooLarge, $"Form data too large: the body is over {options.MaxTotalSize} bytes.");
                }
                ReadOnlySpan<byte> data = buffer.AsSpan(0, n);
                while (!data.IsEmpty)
                {
                    int amp = data.IndexOf((byte)'&');
                    Append(pair, amp < 0 ? data : data[..amp], options);
                    if (amp < 0)
                    {
                        break;
                    }
                    AddPair(fields, pair, options);
                    data = data[(amp + 1)..];
                }
                if (n == 0)
                {
                    AddPair(fields, pair, options);
                    return fields;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Append(ArrayBufferWriter<byte> pair, ReadOnlySpan<byte> bytes, FormOptions options)
    {
        // A name and a value of MaxFieldSize each, and the '=' between them.
        if ((long)pair.WrittenCount + bytes.Length > 2L * options.MaxFieldSize + 1)
        {
            throw TooLarge($"a field is over {options.MaxFieldSize} bytes");
        }
        pair.Write(bytes);
    }

    private static void AddPair(List<KeyValuePair<string, string>> fields, ArrayBufferWriter<byte> pair, FormOptions options)
    {
        ReadOnlySpan<byte> bytes = pair.WrittenSpan;
        if (bytes.IsEmpty)
        {
            return;
        }
        int equals = bytes.IndexOf((byte)'=');
        ReadOnlySpan<byte> name = equals < 0 ? bytes : bytes[..equals];
        ReadOnlySpan<byte> value = equals < 0 ? default : bytes[(equals + 1)..];
        if (name.Length > options.MaxFieldSize || value.Length > options.MaxFieldSize)
        {
            throw TooLarge($"a field is over {options.MaxFieldSize} bytes");
        }
        if (fields.Count == options.MaxParts)
        {
            throw TooLarge($"more than {options.MaxParts} fields");
        }
        fields.Add(new(Decode(name), Decode(value)));
        pair.ResetWrittenCount();
    }

    private static string Decode(ReadOnlySpan<byte> encoded) =>
        encoded.IsEmpty ? "" : HttpUtility.UrlDecode(encoded.ToArray(), System.Text.Encoding.UTF8);

    private static HttpRejectException TooLarge(string message) => new(HttpRejectReason.FormTooLarge, "Form data too large: " + message + ".");
}
