using System.Buffers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Eddy.Http;

// Server-Sent Events (the WHATWG HTML standard, "Server-sent events"): a text/event-stream response that stays open and
// carries one event per item. The items are the BCL's SseItem<T>. The formatting is written here rather than with the
// BCL's SseFormatter: that one owns the enumeration loop and writes to a Stream, which would leave no safe point to
// interleave heartbeats on the loop's clock and would route every event through a Stream adapter; the format itself
// is four field kinds and a blank line.
public sealed partial class HttpResponse
{
    private static readonly byte[] s_heartbeat = ":\n\n"u8.ToArray();

    /// <summary>
    /// Streams <paramref name="events"/> as Server-Sent Events (<c>text/event-stream</c>, chunked, <c>Cache-Control:
    /// no-cache</c>), each event flushed as it comes: <c>id:</c> from <see cref="SseItem{T}.EventId"/>, <c>event:</c>
    /// from <see cref="SseItem{T}.EventType"/> (left out for "message"), <c>retry:</c> from
    /// <see cref="SseItem{T}.ReconnectionInterval"/>, and the data as <c>data:</c> lines (a line break in it starts a
    /// new one). Heartbeats as <paramref name="options"/> say. The producer gets a token (its
    /// <c>[EnumeratorCancellation]</c> parameter) that fires when the client goes (<see cref="HttpContext.RequestAborted"/>)
    /// or <paramref name="cancellationToken"/> does; either ends the stream quietly. A slow client pauses the producer
    /// (each event's write waits for the send buffer to drain). Call it before anything else is written.
    /// </summary>
    public Task SendEventsAsync(IAsyncEnumerable<SseItem<string>> events, EventStreamOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        return SendEventsCoreAsync(events, static (data, output) => Encoding.UTF8.GetBytes(data ?? "", output), options, cancellationToken);
    }

    /// <summary>As the string overload, each event's data the JSON of its item (source-generated <paramref name="typeInfo"/>, so AOT-safe).</summary>
    public Task SendEventsAsync<T>(IAsyncEnumerable<SseItem<T>> events, JsonTypeInfo<T> typeInfo, EventStreamOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(typeInfo);
        return SendEventsCoreAsync(events, (data, output) =>
        {
            using var writer = new Utf8JsonWriter(output);
            JsonSerializer.Serialize(writer, data, typeInfo);
        }, options, cancellationToken);
    }

    /// <summary>True while this response is an event stream: the connection then takes the client's EOF as its leaving.</summary>
    internal bool IsEventStream { get; private set; }

    private async Task SendEventsCoreAsync<T>(IAsyncEnumerable<SseItem<T>> events, Action<T, IBufferWriter<byte>> format, EventStreamOptions? options, CancellationToken cancellationToken)
    {
        ThrowIfStarted();
        options ??= new EventStreamOptions();
        if (options.HeartbeatInterval is { } interval && interval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), interval, "HeartbeatInterval must be positive (or null for none).");
        }
        ContentType = "text/event-stream";
        Headers.Set("Cache-Control", "no-cache");
        IsEventStream = true;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, RequestAborted);
        var output = new ArrayBufferWriter<byte>(256);
        var data = new ArrayBufferWriter<byte>(256);
        try
        {
            if (options.Retry is { } retry)
            {
                WriteRetry(output, retry);
                output.Write("\n"u8);
            }
            await WriteAsync(output.WrittenMemory); // the head goes now: the client knows the stream is open
            output.ResetWrittenCount();
            if (IsHead)
            {
                return; // a HEAD gets the head only
            }
            await using IAsyncEnumerator<SseItem<T>> enumerator = events.GetAsyncEnumerator(stop.Token);
            while (await NextOrHeartbeatAsync(enumerator, options.HeartbeatInterval, stop.Token))
            {
                FormatEvent(enumerator.Current, format, data, output);
                await WriteAsync(output.WrittenMemory); // one chunk per event, flushed
                output.ResetWrittenCount();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The client went or the caller stopped the stream: it ends here, quietly.
        }
        catch (IOException) when (RequestAborted.IsCancellationRequested)
        {
            // A write found the connection gone.
        }
    }

    /// <summary>The next item (true) or the end (false); while none comes, a heartbeat every <paramref name="heartbeat"/>.</summary>
    private async ValueTask<bool> NextOrHeartbeatAsync<T>(IAsyncEnumerator<SseItem<T>> enumerator, TimeSpan? heartbeat, CancellationToken stop)
    {
        ValueTask<bool> next = enumerator.MoveNextAsync();
        if (heartbeat is not { } interval || next.IsCompleted)
        {
            return await next;
        }
        Task<bool> pending = next.AsTask();
        while (!pending.IsCompleted)
        {
            using var beat = CancellationTokenSource.CreateLinkedTokenSource(stop);
            Task due = _sink.Loop.Delay(interval, beat.Token).AsTask();
            if (await Task.WhenAny(pending, due) == due)
            {
                await due; // throws if the stream was stopped meanwhile
                await WriteAsync(s_heartbeat);
            }
            else
            {
                beat.Cancel(); // the item came first: the timer goes
            }
        }
        return await pending;
    }

    private static void FormatEvent<T>(SseItem<T> item, Action<T, IBufferWriter<byte>> format, ArrayBufferWriter<byte> data, ArrayBufferWriter<byte> output)
    {
        if (item.EventId is { } id)
        {
            WriteField(output, "id"u8, Encoding.UTF8.GetBytes(CheckSingleLine(id, "EventId")));
        }
        if (item.EventType is { } type && type != "message")
        {
            WriteField(output, "event"u8, Encoding.UTF8.GetBytes(CheckSingleLine(type, "EventType")));
        }
        if (item.ReconnectionInterval is { } retry)
        {
            WriteRetry(output, retry);
        }
        data.ResetWrittenCount();
        format(item.Data, data);
        // Every line of the data its own data: field (CRLF, CR and LF all break a line in the format).
        ReadOnlySpan<byte> rest = data.WrittenSpan;
        while (true)
        {
            int end = rest.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                WriteField(output, "data"u8, rest);
                break;
            }
            WriteField(output, "data"u8, rest[..end]);
            int skip = rest[end] == '\r' && end + 1 < rest.Length && rest[end + 1] == '\n' ? 2 : 1;
            rest = rest[(end + skip)..];
        }
        output.Write("\n"u8); // the blank line dispatches the event
    }

    private static void WriteField(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        output.Write(name);
        output.Write(": "u8);
        output.Write(value);
        output.Write("\n"u8);
    }

    /// <summary>A <c>retry:</c> field: the reconnection time in whole milliseconds.</summary>
    private static void WriteRetry(ArrayBufferWriter<byte> output, TimeSpan retry)
    {
        Span<byte> digits = stackalloc byte[20];
        ((long)retry.TotalMilliseconds).TryFormat(digits, out int written, provider: System.Globalization.CultureInfo.InvariantCulture);
        WriteField(output, "retry"u8, digits[..written]);
    }

    private static string CheckSingleLine(string value, string what) =>
        value.AsSpan().IndexOfAny('\r', '\n', '\0') < 0
            ? value
            : throw new ArgumentException($"An event's {what} cannot contain a line break or NUL: it would end the field.", nameof(value));
}
