using System.Diagnostics;
using System.Globalization;
using System.Text;
using Eddy.Http.Internal;

namespace Eddy.UnitTests.Http;

/// <summary>The cached Server and Date fields: current to the second, the same in every cached head, refreshed in place.</summary>
public sealed class DateHeaderTests
{
    [Fact]
    public void TheDateIsTheCurrentSecondInEveryCachedHeadAndFollowsTheClock()
    {
        DateTimeOffset first = AssertHeadsAgree();
        Assert.InRange(DateTimeOffset.UtcNow - first, TimeSpan.Zero, TimeSpan.FromSeconds(2));

        // Wait (bounded) for the clock to pass the next whole second and the monotonic clock a full second: the
        // next read must show a later date.
        var waited = Stopwatch.StartNew();
        while (DateTimeOffset.UtcNow < first.AddSeconds(2) || waited.Elapsed < TimeSpan.FromSeconds(1.1))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(5), "the clock did not move");
            Thread.SpinWait(1000);
        }
        DateTimeOffset later = AssertHeadsAgree();
        Assert.True(later > first, $"the date stayed {first:r}");
    }

    /// <summary>
    /// Reads every cached head, checks they carry one date, and returns it. The reads are not one atomic snapshot: a
    /// second can turn between them (this thread's read or another test's loop refreshes), so a read that straddled
    /// a refresh — the common fields differ before and after it — is taken again.
    /// </summary>
    private static DateTimeOffset AssertHeadsAgree()
    {
        for (int attempt = 0; ; attempt++)
        {
            string before = Encoding.ASCII.GetString(DateHeader.CommonFields);
            try
            {
                return AssertHeadsAgreeOnce();
            }
            catch (Xunit.Sdk.XunitException) when (attempt < 3 && Encoding.ASCII.GetString(DateHeader.CommonFields) != before)
            {
                // The date turned during the reads: read again.
            }
        }
    }

    private static DateTimeOffset AssertHeadsAgreeOnce()
    {
        string common = Encoding.ASCII.GetString(DateHeader.CommonFields);
        Assert.StartsWith("Server: eddy\r\nDate: ", common);
        Assert.EndsWith(" GMT\r\n", common);
        string date = common["Server: eddy\r\nDate: ".Length..^2];
        Assert.Equal("HTTP/1.1 200 OK\r\n" + common, Encoding.ASCII.GetString(DateHeader.OkStatusAndCommonFields));
        for (int i = 0; i < DateHeader.CommonContentTypes.Length; i++)
        {
            Assert.Equal($"HTTP/1.1 200 OK\r\n{common}Content-Type: {DateHeader.CommonContentTypes[i]}\r\n", Encoding.ASCII.GetString(DateHeader.OkWithContentType(i)));
        }
        return DateTimeOffset.ParseExact(date, "r", CultureInfo.InvariantCulture);
    }
}
