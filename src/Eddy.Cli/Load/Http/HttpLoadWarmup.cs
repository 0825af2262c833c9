using System.Net.Sockets;

namespace Eddy.Cli.Load.Http;

/// <summary>
/// Runs the client's hot path against a throwaway in-process responder before the real run, and
/// discards the figures (as <see cref="TcpLoadWarmup"/> does for <c>eddy load tcp</c>). It runs for a
/// time, not a count: tiered compilation promotes a method only after 30 calls and a 100 ms pause in new
/// first-tier compiles, and with PGO twice (instrumented, then optimized). After 4,000 requests (~0.1 s)
/// a profile of a 10 s run still showed 7% of its samples in the JIT and 10% in the runtime's profiling
/// helpers, on the load generator's one core.
/// </summary>
internal static class HttpLoadWarmup
{
    private static readonly TimeSpan Duration = TimeSpan.FromMilliseconds(600);
    private static readonly byte[] Response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray();

    public static void Run(HttpLoadSettings settings)
    {
        using LoopbackResponder? server = LoopbackResponder.TryStart(Respond);
        if (server is null)
        {
            return;
        }
        var url = new Uri($"http://{server.EndPoint}/");
        HttpLoadSettings warmup = settings with
        {
            Url = url,
            Target = server.EndPoint,
            Connections = 1,
            Loops = 1,
            Method = "GET",
            Request = HttpRequestBuilder.Build(url, "GET", [], []),
            Body = null,
            Requests = null,
            Rate = null,
            Duration = Duration,
        };
        using (var load = new HttpLoad(warmup))
        {
            load.Run();
        }
        if (settings.IsPaced)
        {
            using var paced = new HttpLoad(warmup with { Rate = 20_000, Duration = TimeSpan.FromMilliseconds(300) });
            paced.Run();
        }
    }

    /// <summary>Answers every request head (CRLF CRLF) with a canned 200, however the reads split them.</summary>
    private static void Respond(Socket client)
    {
        var buffer = new byte[64 * 1024];
        var replies = new List<byte>();
        int matched = 0; // how much of "\r\n\r\n" the bytes so far end with
        int n;
        while ((n = client.Receive(buffer)) > 0)
        {
            int heads = 0;
            for (int i = 0; i < n; i++)
            {
                byte b = buffer[i];
                matched = b == (matched % 2 == 0 ? (byte)'\r' : (byte)'\n') ? matched + 1 : b == '\r' ? 1 : 0;
                if (matched == 4)
                {
                    heads++;
                    matched = 0;
                }
            }
            replies.Clear();
            for (int i = 0; i < heads; i++)
            {
                replies.AddRange(Response);
            }
            client.Send(replies.ToArray());
        }
    }
}
