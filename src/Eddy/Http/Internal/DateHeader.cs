using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Eddy.Http.Internal;

/// <summary>
/// The fields every response starts with, <c>Server</c> and <c>Date</c> (RFC 9110 §6.6.1), formatted once a
/// second rather than per response, alone and behind the most common status line: a 200 response's first
/// three lines are then one copy. Readers get the current bytes with one volatile read and a look at the
/// monotonic clock; the first reader after the second turns writes the new date into the spare set and swaps. No timer: a pool timer needs a
/// thread, and when descriptors run out the runtime cannot start one (RELIABILITY.md): the timer thread failing in
/// the static constructor left the type unusable for the life of the process, and the pool threads its ticks
/// kept busy were a reason for the runtime to start threads at all.
/// </summary>
internal static class DateHeader
{
    private sealed class Lines
    {
        private const int DateLength = 29; // RFC 1123 ("r"): always "ddd, dd MMM yyyy HH:mm:ss GMT"

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

        /// <summary>Writes <paramref name="now"/> over the date in every line, in place: no allocation on the loop.</summary>
        public void SetDate(DateTimeOffset now)
        {
            Span<byte> date = stackalloc byte[DateLength];
            bool formatted = now.TryFormat(date, out int written, "r", CultureInfo.InvariantCulture);
            Debug.Assert(formatted && written == DateLength);
            date.CopyTo(Common.AsSpan(Common.Length - 2 - DateLength));
            date.CopyTo(Ok.AsSpan(Ok.Length - 2 - DateLength));
            for (int i = 0; i < OkWithContentType.Length; i++)
            {
                byte[] line = OkWithContentType[i];
                date.CopyTo(line.AsSpan(Ok.Length - 2 - DateLength)); // the same prefix as Ok
            }
        }
    }

    /// <summary>The content types of Eddy's own response helpers, whose 200 heads are cached whole up to the Content-Type line.</summary>
    public static readonly string[] CommonContentTypes = [HttpResponse.PlainText, HttpResponse.JsonType, HttpResponse.OctetStream];

    // Two sets of lines, the current one and the spare: a refresh writes the new second into the spare, then swaps.
    // A reader copies its span at once (a response head), so the spare was last read a second ago.
    private static readonly Lines[] s_sets = [new(DateTimeOffset.UtcNow), new(DateTimeOffset.UtcNow)];
    private static volatile Lines s_lines = s_sets[0];
    private static long s_refreshAt; // Environment.TickCount64 at which s_lines is a second old; 0 at first, so the first reader formats
    private static int s_refreshing; // 1 while a loop refreshes: the others keep reading the current lines

    /// <summary>The lines of the current second.</summary>
    private static Lines Current
    {
        get
        {
            if (Environment.TickCount64 >= Volatile.Read(ref s_refreshAt))
            {
                Refresh();
            }
            return s_lines;
        }
    }

    /// <summary><c>Server: eddy\r\nDate: Thu, 26 Nov 2026 16:00:00 GMT\r\n</c>, as bytes.</summary>
    public static ReadOnlySpan<byte> CommonFields
    {
        get
        {
            return Current.Common;
        }
    }

    /// <summary>
    /// <see cref="OkStatusAndCommonFields"/> and <c>Content-Type: T\r\n</c> for <see cref="CommonContentTypes"/>[<paramref name="contentType"/>]:
    /// the head of the most common responses, but for its length, in one copy.
    /// </summary>
    public static ReadOnlySpan<byte> OkWithContentType(int contentType)
    {
        return Current.OkWithContentType[contentType];
    }

    /// <summary><c>HTTP/1.1 200 OK\r\n</c> followed by <see cref="CommonFields"/>.</summary>
    public static ReadOnlySpan<byte> OkStatusAndCommonFields
    {
        get
        {
            return Current.Ok;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // once a second: keep it out of the readers' inlined path
    private static void Refresh()
    {
        if (Interlocked.CompareExchange(ref s_refreshing, 1, 0) != 0)
        {
            return;
        }
        DateTimeOffset now = DateTimeOffset.UtcNow;
        Lines spare = ReferenceEquals(s_lines, s_sets[0]) ? s_sets[1] : s_sets[0];
        spare.SetDate(now);
        s_lines = spare;
        Volatile.Write(ref s_refreshAt, Environment.TickCount64 + 1000 - now.Millisecond);
        Volatile.Write(ref s_refreshing, 0);
    }
}
