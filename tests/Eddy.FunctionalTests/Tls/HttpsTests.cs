using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Eddy.Cli.Serve;
using Eddy.FunctionalTests.Http;
using Eddy.Loop;
using Eddy.Web;

namespace Eddy.FunctionalTests.Tls;

/// <summary>Eddy's HTTP server over TLS, with .NET's own client (SslStream, HttpClient) on the other side.</summary>
public sealed class HttpsTests : IDisposable
{
    private readonly X509Certificate2 _certificate = TlsTestCertificates.Create("localhost");
    private readonly HttpTestServer _server = new(DemoApp.Create(DemoApp.DefaultStaticFolder), tls: TlsTestCertificates.ServerOptions());

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task HttpClientGetsPostsAndReusesTheConnection()
    {
        using HttpClient client = Client();
        var url = new Uri($"https://localhost:{_server.EndPoint.Port}");
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("Hello, World!", await client.GetStringAsync(new Uri(url, "/plaintext")));
        }
        byte[] body = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 17);
        using HttpResponseMessage upload = await client.PostAsync(new Uri(url, "/upload?sha256=1"), new ByteArrayContent(body));
        string json = await upload.Content.ReadAsStringAsync();
        Assert.True(upload.IsSuccessStatusCode, json);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(body)), json);
        Assert.Equal(1, await _server.Server.GetConnectionCountAsync()); // one connection, kept alive
        Assert.Empty(_server.Errors);
    }

    [Fact]
    public async Task AHandlersAwaitsComeBackToTheLoopThreadOverTls()
    {
        // TLS delivers requests from inside SslStream's continuations; the handler must still run under the loop's
        // synchronization context, or everything after its first await runs on the thread pool, racing the loop.
        var app = new WebApp();
        app.MapGet("/where", async context =>
        {
            int before = Environment.CurrentManagedThreadId;
            await Task.Yield();
            await context.Response.WriteAsync(Encoding.ASCII.GetBytes(before == Environment.CurrentManagedThreadId ? "loop" : "elsewhere"));
        });
        using var server = new HttpTestServer(app, tls: TlsTestCertificates.ServerOptions());
        using HttpClient client = Client();
        var url = new Uri($"https://localhost:{server.EndPoint.Port}/where");
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("loop", await client.GetStringAsync(url));
        }
        Assert.Empty(server.Errors);
    }

    private HttpClient Client()
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.GetCertHashString() == _certificate.GetCertHashString();
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }
}
