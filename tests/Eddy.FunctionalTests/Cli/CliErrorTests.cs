using System.Net;
using System.Net.Sockets;

namespace Eddy.FunctionalTests.Cli;

/// <summary>Bad input gets one clear line and a non-zero exit, never a stack trace.</summary>
public class CliErrorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task APortInUseIsReportedInOneLine()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        foreach (string impl in new[] { "blocking", "selector", "loop", "async", "protocol", "streams" })
        {
            var result = await EddyCli.RunAsync(Timeout, "echo", "--impl", impl, "--port", port.ToString());

            Assert.NotEqual(0, result.ExitCode);
            Assert.Equal($"eddy: 127.0.0.1:{port} is already in use", result.Stderr.Trim());
        }
    }

    [Fact]
    public async Task AnUnknownImplementationListsTheChoices()
    {
        var result = await EddyCli.RunAsync(Timeout, "echo", "--impl", "threads");

        Assert.NotEqual(0, result.ExitCode);
        string firstLine = result.Stderr.Split('\n')[0];
        Assert.Contains("threads", firstLine);
        foreach (string choice in new[] { "blocking", "selector", "loop", "async", "protocol", "streams" })
        {
            Assert.Contains(choice, firstLine);
        }
        Assert.Contains("usage: eddy echo", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Theory]
    [InlineData("echo", "--bogus")]
    [InlineData("echo", "--port", "70000")]
    [InlineData("echo", "--port", "abc")]
    [InlineData("serve", "--port", "abc")]
    [InlineData("echo", "--impl", "loop", "--loops", "2")]
    [InlineData("serve", "--drain-timeout", "-1")]
    [InlineData("serve", "--drain-timeout", "soon")]
    [InlineData("serve", "--max-connections", "0")]
    [InlineData("load", "tcp", "not-a-target")]
    [InlineData("load", "tcp", "127.0.0.1:0")]
    [InlineData("load", "tcp", "127.0.0.1:8888", "-c", "0")]
    [InlineData("load", "tcp", "127.0.0.1:8888", "-d", "soon")]
    [InlineData("load", "tcp", "127.0.0.1:8888", "-d", "1s", "--rounds", "2")]
    public async Task BadInputGetsAOneLineErrorAndExitCodeTwo(params string[] args)
    {
        var result = await EddyCli.RunAsync(Timeout, args);

        Assert.Equal(2, result.ExitCode);
        string[] lines = result.Stderr.Trim().Split('\n');
        Assert.StartsWith("eddy: ", lines[0]);
        Assert.True(lines.Length <= 2, $"expected a message and at most a usage line, got:\n{result.Stderr}");
        Assert.DoesNotContain("   at ", result.Stderr);
    }
}
