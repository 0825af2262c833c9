using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Eddy.Http;
using Eddy.Loop;

namespace Eddy.Cli.Serve;

/// <summary>
/// <c>/sse</c>: Server-Sent Events, a <c>clock</c> event every second with the time (ISO 8601, UTC) as its data and a
/// counter as its id. A browser that reconnects sends <c>Last-Event-ID</c> and the count goes on from there. Ticks are
/// on the loop's clock; the stream ends when the client goes.
/// </summary>
internal static class DemoClock
{
    public static ValueTask StreamAsync(HttpContext context)
    {
        long next = long.TryParse(context.Request.Headers["Last-Event-ID"], NumberStyles.None, CultureInfo.InvariantCulture, out long last) && last < long.MaxValue
            ? last + 1
            : 1;
        return new ValueTask(context.Response.SendEventsAsync(Ticks(context.Loop, next)));
    }

    private static async IAsyncEnumerable<SseItem<string>> Ticks(EventLoop loop, long id, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            yield return new SseItem<string>(DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture), "clock")
            {
                EventId = id.ToString(CultureInfo.InvariantCulture),
            };
            id++;
            await loop.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }
}
