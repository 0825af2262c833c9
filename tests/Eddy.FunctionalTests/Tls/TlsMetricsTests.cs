using System.Net.Sockets;
using Eddy.FunctionalTests.Http;
using Eddy.Tls.Internal;
using Eddy.Web;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Eddy.FunctionalTests.Tls;

/// <summary>The TLS handshake instrument (meter "Eddy.Tls"): a server's handshakes, successful or not.</summary>
public sealed class TlsMetricsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task HandshakesAreTimedWithTheVersionOrTheError()
    {
        using var handshakes = new MetricCollector<double>(TlsMetrics.HandshakeDuration);
        using var server = new HttpTestServer(new WebApp().MapGet("/", context => context.Response.Text("hi")), tls: TlsTestCertificates.ServerOptions());

        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        using (var client = new HttpClient(handler) { Timeout = Timeout })
        {
            Assert.Equal("hi", await client.GetStringAsync(server.Url("/")));
        }
        await handshakes.WaitForMeasurementsAsync(1, Timeout);
        Assert.Contains(handshakes.GetMeasurementSnapshot(), m =>
            m.Tags.TryGetValue("tls.protocol.version", out object? version) && version is "1.2" or "1.3" && m.Value is > 0 and < 10);

        // Plain HTTP to the TLS port: not a ClientHello, so the handshake fails.
        using (Socket socket = await server.ConnectAsync())
        {
            await socket.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            await HttpTestServer.ReadUntilClosedAsync(socket, Timeout);
        }
        await handshakes.WaitForMeasurementsAsync(2, Timeout);
        Assert.Contains(handshakes.GetMeasurementSnapshot(), m =>
            m.Tags.TryGetValue("error.type", out object? error) && error is string type && type.Length > 0);
    }
}
