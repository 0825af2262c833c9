using System.Diagnostics;
using System.Net.Sockets;
using Eddy.FunctionalTests.Http;
using Eddy.FunctionalTests.Transports;
using Eddy.Http;
using Xunit.Abstractions;

namespace Eddy.FunctionalTests.Reliability;

/// <summary>Connection flood: past <see cref="HttpServerOptions.MaxConnections"/> a new connection is closed at once, counted, and the ones held are unaffected.</summary>
public class ConnectionLimitTests(ITestOutputHelper output) : IDisposable
{
    private const int Limit = 3;

    private readonly HttpTestServer _server = new(ReliabilityApp.Create(), new HttpServerOptions { MaxConnections = Limit });

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task ConnectionsPastTheLimitAreClosedAtOnceAndCountedAndOneIsAcceptedAgainWhenASlotFrees()
    {
        var held = new List<Socket>();
        try
        {
            for (int i = 0; i < Limit; i++)
            {
                held.Add(await Client.ConnectAsync(_server.EndPoint));
                Assert.True(await HttpTestServer.PlaintextOnAsync(held[^1], TestTimeouts.Wait), $"connection {i + 1} of {Limit} was not served");
            }

            var clock = Stopwatch.StartNew();
            for (int i = 0; i < 5; i++)
            {
                using Socket refused = await Client.ConnectAsync(_server.EndPoint);
                Assert.Equal("", await HttpTestServer.ReadUntilClosedAsync(refused, TestTimeouts.Wait));
            }
            output.WriteLine($"5 connections past the limit of {Limit} closed in {clock.ElapsedMilliseconds} ms in all");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"refusing 5 connections took {clock.Elapsed}");
            Assert.Equal(5, await _server.Server.GetRefusedConnectionCountAsync());
            Assert.Equal(Limit, await _server.Server.GetConnectionCountAsync());

            foreach (Socket socket in held)
            {
                Assert.True(await HttpTestServer.PlaintextOnAsync(socket, TestTimeouts.Wait), "a connection under the limit stopped being served");
            }

            held[0].Dispose();
            await _server.WaitForConnectionCountAsync(Limit - 1);
            await _server.AssertServesPlaintextAsync();
            Assert.Equal(5, await _server.Server.GetRefusedConnectionCountAsync());
            Assert.Empty(_server.Errors);
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }
}
