using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Eddy.FunctionalTests.Echo;

namespace Eddy.FunctionalTests.Cli;

/// <summary><c>eddy load tcp</c> against real echo servers: counts, JSON, failures by kind.</summary>
public class LoadTcpTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("blocking")]
    [InlineData("async")]
    public async Task OneShotClientsAllSucceedAndTheJsonCarriesTheDistribution(string impl)
    {
        using var server = new RunningEchoServer(impl);
        string json = Path.Combine(Path.GetTempPath(), $"eddy-load-{Guid.NewGuid():N}.json");
        try
        {
            var result = await EddyCli.RunAsync(Timeout, "load", "tcp", server.EndPoint.ToString(), "-c", "50", "--rounds", "3", "--size", "2000", "--json", json);

            Assert.Equal(0, result.ExitCode);
            using JsonDocument report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            JsonElement root = report.RootElement;
            Assert.Equal(150, root.GetProperty("messages").GetInt64());
            Assert.Equal(0, root.GetProperty("errors").GetInt64());
            Assert.Equal(50, root.GetProperty("connections").GetInt32());
            Assert.True(root.GetProperty("latencyUs").GetProperty("p50").GetDouble() > 0);
            Assert.True(root.GetProperty("percentiles").GetArrayLength() >= 5);
            Assert.Contains("150", result.Stdout);
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public async Task ClosedLoopModeEchoesForTheDurationWithoutErrors()
    {
        using var server = new RunningEchoServer("protocol");
        string json = Path.Combine(Path.GetTempPath(), $"eddy-load-{Guid.NewGuid():N}.json");
        try
        {
            var result = await EddyCli.RunAsync(Timeout, "load", "tcp", server.EndPoint.ToString(), "-c", "8", "--size", "1024", "-d", "1s", "--json", json, "--html", json + ".html", "--quiet");

            Assert.Equal(0, result.ExitCode);
            using JsonDocument report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            JsonElement root = report.RootElement;
            Assert.True(root.GetProperty("messages").GetInt64() > 100);
            Assert.Equal(0, root.GetProperty("errors").GetInt64());
            Assert.InRange(root.GetProperty("seconds").GetDouble(), 0.9, 5);
            Assert.True(root.GetProperty("distribution").GetArrayLength() > 10);
            Assert.Contains("<polyline", await File.ReadAllTextAsync(json + ".html"));
        }
        finally
        {
            File.Delete(json);
            File.Delete(json + ".html");
        }
    }

    [Fact]
    public async Task ARefusedTargetIsCountedAsConnectErrorsAndExitsOne()
    {
        // Bound but never listening, and held for the whole run: every connect is refused, and no server another
        // test starts meanwhile can be given this port and receive the load meant to be refused.
        using var reserved = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        reserved.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)reserved.LocalEndPoint!).Port;
        string json = Path.Combine(Path.GetTempPath(), $"eddy-load-{Guid.NewGuid():N}.json");
        try
        {
            var result = await EddyCli.RunAsync(Timeout, "load", "tcp", $"127.0.0.1:{port}", "-c", "10", "--json", json);

            Assert.Equal(1, result.ExitCode);
            using JsonDocument report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            Assert.Equal(10, report.RootElement.GetProperty("errorsByKind").GetProperty("connect").GetInt64());
            Assert.Contains("ECONNREFUSED", result.Stdout + result.Stderr);
        }
        finally
        {
            File.Delete(json);
        }
    }
}
