using System.Text;

namespace Eddy.Http.Internal;

/// <summary>
/// The fields every response starts with, <c>Server</c> and <c>Date</c> (RFC 9110 §6.6.1), formatted once a
/// second rather than per response, alone and behind the most common status line: a 200 response's first
/// three lines are then one copy. Readers get the current bytes with one volatile read; a timer replaces them.
/// </summary>
internal static class DateHeader
{
    private sealed class Lines
    {
        public readonly byte[] Common;
        public readonly byte[] Ok;
        public readonly byte[][] OkWithContentType;

        public Lines(DateTimeOffset now)
        {
            string common = "Server: eddy\r\nDate: " + now.ToString("r") + "\r\n";
            Common = Encoding.ASCII.GetBytes(common);
            Ok = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\n" + common);
            OkWithContentType = new byte[CommonContentTypes.Length][];
            for (int i = 0; i < CommonContentTypes.Length; i++)
            {
                OkWithContentType[i] = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\n" + common + "Content-Type: " + CommonContentTypes[i] + "\r\n");
            }
        }
    }

    /// <summary>The content types of Eddy's own response helpers, whose 200 heads are cached whole up to the Content-Type line.</summary>
    public static readonly string[] CommonContentTypes = [HttpResponse.PlainText, HttpResponse.JsonType, HttpResponse.OctetStream];

    private static volatile Lines s_lines = new(DateTimeOffset.UtcNow);
    private static readonly Timer s_timer = new(static _ => s_lines = new Lines(DateTimeOffset.UtcNow), null, 1000 - DateTime.UtcNow.Millisecond, 1000);

    /// <summary><c>Server: eddy\r\nDate: Thu, 26 Nov 2026 16:00:00 GMT\r\n</c>, as bytes.</summary>
    public static ReadOnlySpan<byte> CommonFields
    {
        get
        {
            GC.KeepAlive(s_timer);
            return s_lines.Common;
        }
    }

    /// <summary>
    /// <see cref="OkStatusAndCommonFields"/> and <c>Content-Type: T\r\n</c> for <see cref="CommonContentTypes"/>[<paramref name="contentType"/>]:
    /// the head of the most common responses, but for its length, in one copy.
    /// </summary>
    public static ReadOnlySpan<byte> OkWithContentType(int contentType)
    {
        GC.KeepAlive(s_timer);
        return s_lines.OkWithContentType[contentType];
    }

    /// <summary><c>HTTP/1.1 200 OK\r\n</c> followed by <see cref="CommonFields"/>.</summary>
    public static ReadOnlySpan<byte> OkStatusAndCommonFields
    {
        get
        {
            GC.KeepAlive(s_timer);
            return s_lines.Ok;
        }
    }
}
