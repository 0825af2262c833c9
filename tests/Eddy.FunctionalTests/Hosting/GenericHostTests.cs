using System.Net;
using System.Net.Sockets;
using System.Text;
using Eddy.FunctionalTests.Transports;
using Eddy.Hosting;
using Eddy.Web;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace Eddy.FunctionalTests.Hosting;

/// <summary>
/// Eddy.Hosting: an Eddy app as a hosted service of the .NET Generic Host — options from configuration, the host's
/// services in handlers, its logger, start failing on a port in use or a bad URL, the drain on host shutdown.
/// </summary>
public sealed class GenericHostTests
{
    private sealed class Greeter
    {
        public string Hello(string name) => $"Hello, {name}!";
    }

    private static HostApplicationBuilder Builder(Dictionary<string, string?> configuration)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Logging.AddFakeLogging();
        return builder;
    }

    private static Dictionary<string, string?> OneEndpoint(int port = 0) => new()
    {
        ["Eddy:Endpoints:0:Url"] = $"http://127.0.0.1:{port}",
        ["Eddy:LoopCount"] = "2",
    };

    private static int Port(IHost host) => ((IPEndPoint)host.Services.GetRequiredService<EddyServerAddresses>().EndPoints[0]).Port;

    [Fact]
    public async Task TheHostServesTheAppWithItsServicesAndLogsThroughItsLoggerFactory()
    {
        HostApplicationBuilder builder = Builder(OneEndpoint());
        builder.Services.AddSingleton<Greeter>();
        builder.Services.AddEddyWebApp((app, services) =>
            app.MapGet("/hello/{name}", ctx => ctx.Response.Text(
                ctx.Services.GetRequiredService<Greeter>().Hello(ctx.Request.RouteValues.GetString("name")!))));
        using IHost host = builder.Build();
        await host.StartAsync().WaitAsync(TestTimeouts.Wait);

        using var client = new HttpClient();
        Assert.Equal("Hello, world!", await client.GetStringAsync($"http://127.0.0.1:{Port(host)}/hello/world"));
        FakeLogCollector logs = host.Services.GetFakeLogCollector();
        FakeLogRecord start = Assert.Single(logs.GetSnapshot(), r => r.Message.StartsWith("listening on", StringComparison.Ordinal));
        Assert.Equal("Eddy.Hosting.ServerHost", start.Category);
        Assert.Contains("(2 loops,", start.Message);

        await host.StopAsync().WaitAsync(TestTimeouts.Wait);
        Assert.Contains(logs.GetSnapshot(), r => r.Message == "stopped");
        Assert.Equal(SocketError.ConnectionRefused, await ConnectErrorAsync(Port(host)));
    }

    [Fact]
    public async Task HttpLimitsComeFromTheEddyConfigurationSection()
    {
        Dictionary<string, string?> configuration = OneEndpoint();
        configuration["Eddy:Http:MaxRequestBodySize"] = "10";
        configuration["Eddy:Http:KeepAliveTimeout"] = "00:00:07";
        HostApplicationBuilder builder = Builder(configuration);
        builder.Services.AddEddyWebApp((app, _) => app.MapPost("/echo", async ctx =>
        {
            using var body = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(body);
            ctx.Response.Text($"{body.Length} bytes");
        }));
        using IHost host = builder.Build();
        await host.StartAsync().WaitAsync(TestTimeouts.Wait);

        using var client = new HttpClient();
        string url = $"http://127.0.0.1:{Port(host)}/echo";
        using HttpResponseMessage small = await client.PostAsync(url, new ByteArrayContent(new byte[10]));
        Assert.Equal("10 bytes", await small.Content.ReadAsStringAsync());
        using HttpResponseMessage large = await client.PostAsync(url, new ByteArrayContent(new byte[11]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), host.Services.GetRequiredService<IOptions<EddyServerOptions>>().Value.Http.KeepAliveTimeout);
        await host.StopAsync().WaitAsync(TestTimeouts.Wait);
    }

    [Fact]
    public async Task OptionsSetInCodeApplyAfterConfiguration()
    {
        HostApplicationBuilder builder = Builder(new() { ["Eddy:Endpoints:0:Url"] = "http://127.0.0.1:1" });
        builder.Services.AddEddyWebApp((app, _) => app.MapGet("/", ctx => ctx.Response.Text("ok")))
            .Configure(o =>
            {
                o.Endpoints.Clear();
                o.Endpoints.Add(new EddyEndpointOptions { Url = "http://localhost:0" });
                o.LoopCount = 1;
            });
        using IHost host = builder.Build();
        await host.StartAsync().WaitAsync(TestTimeouts.Wait);
        using var client = new HttpClient();
        Assert.Equal("ok", await client.GetStringAsync($"http://127.0.0.1:{Port(host)}/"));
        Assert.Contains(host.Services.GetFakeLogCollector().GetSnapshot(), r => r.Message.Contains("(1 loop,", StringComparison.Ordinal));
        await host.StopAsync().WaitAsync(TestTimeouts.Wait);
    }

    [Fact]
    public async Task APortInUseFailsTheHostsStartWithTheAddress()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        HostApplicationBuilder builder = Builder(OneEndpoint(port));
        builder.Services.AddEddyWebApp((app, _) => app.MapGet("/", ctx => ctx.Response.Text("ok")));
        using IHost host = builder.Build();

        HostListenException error = await Assert.ThrowsAsync<HostListenException>(() => host.StartAsync().WaitAsync(TestTimeouts.Wait));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), error.EndPoint);
    }

    [Theory]
    [InlineData("ftp://127.0.0.1:80", "it must start with http:// or https://")]
    [InlineData("http://127.0.0.1", "it needs a port")]
    [InlineData("http://127.0.0.1:99999", "'99999' is not a port")]
    [InlineData("http://example.com:80", "'example.com' is not an IP address")]
    [InlineData("http://127.0.0.1:80/api", "an endpoint has no path")]
    [InlineData("https://127.0.0.1:0", "it needs CertificatePath and KeyPath")]
    public async Task ABadEndpointFailsTheHostsStartNamingIt(string url, string why)
    {
        HostApplicationBuilder builder = Builder(new() { ["Eddy:Endpoints:0:Url"] = url });
        builder.Services.AddEddyWebApp((app, _) => app.MapGet("/", ctx => ctx.Response.Text("ok")));
        using IHost host = builder.Build();

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync().WaitAsync(TestTimeouts.Wait));
        Assert.True(error is FormatException or InvalidOperationException, error.ToString());
        Assert.Contains(url, error.Message);
        Assert.Contains(why, error.Message);
    }

    [Fact]
    public async Task HostShutdownDrainsARequestInFlight()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        HostApplicationBuilder builder = Builder(OneEndpoint());
        builder.Services.AddEddyWebApp((app, services) => app.MapGet("/slow", async ctx =>
        {
            // Answers only once the host is stopping: an answer shows the drain waited for it.
            CancellationToken stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (stopping.Register(() => stopped.TrySetResult()))
            {
                entered.TrySetResult();
                await stopped.Task;
            }
            ctx.Response.Text("finished");
        }));
        using IHost host = builder.Build();
        await host.StartAsync().WaitAsync(TestTimeouts.Wait);
        using var client = new HttpClient();
        Task<string> response = client.GetStringAsync($"http://127.0.0.1:{Port(host)}/slow");
        await entered.Task.WaitAsync(TestTimeouts.Wait);

        await host.StopAsync().WaitAsync(TestTimeouts.Wait);
        Assert.Equal("finished", await response.WaitAsync(TestTimeouts.Wait));
    }

    [Fact]
    public void OneAppPerHost()
    {
        var services = new ServiceCollection();
        services.AddEddyWebApp((_, _) => { });
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => services.AddEddy(_ => _ => ValueTask.CompletedTask));
        Assert.Contains("one AddEddy or AddEddyWebApp per host", error.Message);
    }

    private static async Task<SocketError> ConnectErrorAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(TestTimeouts.Wait);
            return SocketError.Success;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
    }
}
