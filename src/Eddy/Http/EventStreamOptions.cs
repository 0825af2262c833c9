namespace Eddy.Http;

/// <summary>How <see cref="HttpResponse.SendEventsAsync(IAsyncEnumerable{System.Net.ServerSentEvents.SseItem{string}}, EventStreamOptions?, CancellationToken)"/> streams.</summary>
public sealed class EventStreamOptions
{
    /// <summary>
    /// While no event is sent for this long, a comment line (<c>:</c>) goes out, on the loop's clock: it keeps
    /// proxies from closing an idle stream and finds a client that has gone (the write fails). Default 15 s; null: none.
    /// </summary>
    public TimeSpan? HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A <c>retry:</c> field sent first: how long the browser waits before reconnecting. Default: none (its own, ~3 s).</summary>
    public TimeSpan? Retry { get; set; }
}
