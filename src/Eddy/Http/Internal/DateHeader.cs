using System.Text;

namespace Eddy.Http.Internal;

/// <summary>
/// The <c>Date</c> field every response carries (RFC 9110 §6.6.1), formatted once a second rather than
/// per response: readers get the current bytes with one volatile read, and a timer replaces them.
/// </summary>
internal static class DateHeader
{
    private static volatile byte[] s_line = Format(DateTimeOffset.UtcNow);
    private static readonly Timer s_timer = new(static _ => s_line = Format(DateTimeOffset.UtcNow), null, 1000 - DateTime.UtcNow.Millisecond, 1000);

    /// <summary><c>Date: Thu, 26 Nov 2026 16:00:00 GMT\r\n</c>, as bytes.</summary>
    public static ReadOnlySpan<byte> Line
    {
        get
        {
            GC.KeepAlive(s_timer);
            return s_line;
        }
    }

    private static byte[] Format(DateTimeOffset now) => Encoding.ASCII.GetBytes("Date: " + now.ToString("r") + "\r\n");
}
