using Eddy.Tls;

namespace Eddy.Cli.Load.Http;

/// <summary>
/// Runs the client's hot path against a throwaway in-process responder before the real run, and
/// discards the figures (as <see cref="TcpLoadWarmup"/> does for <c>eddy load tcp</c>). It runs for a
/// time, not a count: tiered compilation promotes a method only after 30 calls and a 100 ms pause in new
/// first-tier compiles, and with PGO twice (instrumented, then optimized). After 4,000 requests (~0.1 s)
/// a profile of a 10 s run still showed 7% of its samples in the JIT and 10% in the runtime's profiling
/// helpers, on the load generator's one core. For an https:// run the responder speaks TLS (with a throwaway
/// certificate the warm-up does not check), so the TLS transport and the handshake are compiled before the run too:
/// cold, the first handshakes measured 100–450 ms (Debug build), most of it loading the system's trusted CAs and JIT.
/// </summary>
internal static class HttpLoadWarmup
{
    private static readonly TimeSpan Duration = TimeSpan.FromMilliseconds(600);
    private static readonly byte[] Response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray();

    public static void Run(HttpLoadSettings settings)
    {
        using LoopbackResponder? server = LoopbackResponder.TryStart(Respond, tls: settings.IsTls);
        if (server is null)
        {
            return;
        }
        var url = new Uri($"{(settings.IsTls ? "https" : "http")}://{server.EndPoint}/");
        HttpLoadSettings warmup = settings with
        {
            Url = url,
            Target = server.EndPoint,
            Connections = 1,
            Loops = 1,
            Method = "GET",
            Request = HttpRequestBuilder.Build(url, "GET", [], [], close: settings.NewConnectionPerRequest),
            Tls = settings.IsTls ? new TlsClientOptions { ServerName = "localhost", SkipServerCertificateValidation = true } : null,
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
    private static void Respond(Stream client)
    {
        try
        {
            RespondToAll(client);
        }
        catch (IOException)
        {
            // The client went away (a reset, or TLS closed without close_notify): the next one.
        }
    }

    private static void RespondToAll(Stream client)
    {
        var buffer = new byte[64 * 1024];
        var replies = new List<byte>();
        int matched = 0; // how much of "\r\n\r\n" the bytes so far end with
        int n;
        while ((n = client.Read(buffer)) > 0)
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
            client.Write(replies.ToArray());
        }
    }
}
