using System.Text;
using Eddy.Http.Parsing;
using Eddy.Web.Forms.Internal;

namespace Eddy.Fuzz;

/// <summary>
/// The <c>multipart</c> fuzz target and the property tests' driver: a multipart body through
/// <see cref="MultipartParser"/> whole and in pieces (the caller keeping the bytes not consumed, as
/// <c>MultipartReader</c> does), as a transcript of parts, their data and the outcome. The two must agree; the
/// parser must consume within its input, make progress with every event, and throw only
/// <see cref="HttpRejectException"/>.
/// </summary>
public static class MultipartTarget
{
    /// <summary>The boundary the fuzz inputs are written with.</summary>
    public const string Boundary = "XyZ";

    /// <summary>Small limits, so short inputs reach them: 4 parts, 128 bytes of headers per part.</summary>
    public const int MaxParts = 4, MaxHeaderBytes = 128;

    /// <summary>Input: byte 0 holds n (bits 0-2); n piece sizes (1-64) follow, then the body. n = 0: one byte at a time.</summary>
    public static string Run(byte[] input)
    {
        int count = input.Length == 0 ? 0 : Math.Min(input[0] & 7, input.Length - 1);
        int[] sizes = count == 0 ? [1] : [.. input.AsSpan(1, count).ToArray().Select(b => (b & 63) + 1)];
        byte[] body = input.Length == 0 ? [] : input[(1 + count)..];
        string whole = Transcript(body, Boundary, [int.MaxValue], MaxParts, MaxHeaderBytes);
        string pieces = Transcript(body, Boundary, sizes, MaxParts, MaxHeaderBytes);
        if (whole != pieces)
        {
            throw new FuzzCheckException($"whole and in pieces ({string.Join(",", sizes)}) differ:\n--- whole\n{whole}\n--- in pieces\n{pieces}");
        }
        return whole;
    }

    /// <summary>
    /// What the parser makes of <paramref name="body"/> arriving in pieces of <paramref name="sizes"/> (used in turn):
    /// one line per part (names, type, data escaped), then <c>end</c>, or the rejection.
    /// </summary>
    public static string Transcript(byte[] body, string boundary, int[] sizes, int maxParts, int maxHeaderBytes)
    {
        var parser = new MultipartParser(Encoding.ASCII.GetBytes(boundary), maxParts, maxHeaderBytes);
        var transcript = new StringBuilder();
        var pending = new List<byte>();
        var data = new List<byte>();
        int position = 0;
        try
        {
            for (int piece = 0; position < body.Length || piece == 0; piece++)
            {
                int size = (int)Math.Min(sizes[piece % sizes.Length], body.Length - position);
                pending.AddRange(body.AsSpan(position, size));
                position += size;
                while (true)
                {
                    byte[] input = [.. pending];
                    MultipartEvent next = parser.Next(input, out int consumed, out int dataLength);
                    if (consumed < 0 || consumed > input.Length || dataLength < 0 || dataLength > input.Length)
                    {
                        throw new FuzzCheckException($"{next}: consumed {consumed}, data {dataLength} of {input.Length} bytes");
                    }
                    if (next != MultipartEvent.NeedMore && consumed == 0)
                    {
                        throw new FuzzCheckException($"{next} consumed nothing: no progress");
                    }
                    switch (next)
                    {
                        case MultipartEvent.PartStart:
                            transcript.Append($"part name={Escape(parser.Name)} file={Escape(parser.FileName)} type={Escape(parser.ContentType)}");
                            break;
                        case MultipartEvent.Data:
                            data.AddRange(input.AsSpan(0, dataLength));
                            break;
                        case MultipartEvent.PartEnd:
                            transcript.Append(" data=").Append(Escape(Encoding.Latin1.GetString([.. data]))).Append('\n');
                            data.Clear();
                            break;
                        case MultipartEvent.End:
                            transcript.Append("end\n");
                            break;
                    }
                    pending.RemoveRange(0, consumed);
                    if (next == MultipartEvent.NeedMore)
                    {
                        break;
                    }
                }
            }
            parser.Finish();
        }
        catch (HttpRejectException e)
        {
            transcript.Append($"reject {e.StatusCode} {e.Message}\n");
        }
        return transcript.ToString();
    }

    private static string Escape(string? text) => text is null ? "null" :
        "\"" + string.Concat(text.Select(c => c is >= ' ' and < '\x7f' and not '"' and not '\\' ? c.ToString() : $"\\x{(int)c:X2}")) + "\"";
}
