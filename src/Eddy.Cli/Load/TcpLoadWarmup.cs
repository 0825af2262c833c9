using Eddy.Tls;

namespace Eddy.Cli.Load;

/// <summary>
/// Runs the client code through two one-shot rounds against a throwaway in-process echo server before
/// the real run, and discards the figures. Without it the JIT compiles the connection path while the
/// first clients are in flight: every client of a cold 20-client round measured 14–25 ms from connect to
/// reply (Release build, async echo server), against about 100 µs once warm. With <c>--tls</c> the responder
/// speaks TLS, so the first handshakes of the run do not pay for compiling the TLS path either.
/// </summary>
internal static class TcpLoadWarmup
{
    public static void Run(TcpLoadSettings settings)
    {
        using LoopbackResponder? server = LoopbackResponder.TryStart(Echo, tls: settings.Tls is not null);
        if (server is null)
        {
            return;
        }
        TcpLoadSettings warmup = settings with
        {
            Target = server.EndPoint,
            Connections = 1,
            Loops = 1,
            MessageSize = settings.Message?.Length ?? Math.Min(settings.MessageSize, 4096),
            Rounds = 2,
            Duration = null,
            Tls = settings.Tls is null ? null : new TlsClientOptions { ServerName = "localhost", SkipServerCertificateValidation = true },
        };
        using var load = new TcpLoad(warmup);
        load.Run();
    }

    /// <summary>The tutorial's blocking echo server in miniature: one client at a time is all the warm-up needs.</summary>
    private static void Echo(Stream client)
    {
        var buffer = new byte[64 * 1024];
        int n;
        try
        {
            while ((n = client.Read(buffer)) > 0)
            {
                client.Write(buffer.AsSpan(0, n));
            }
        }
        catch (IOException)
        {
            // The client went away (a reset, or TLS closed without close_notify): the next one.
        }
    }
}
