using System.Net;
using System.Net.Sockets;
using Eddy.FunctionalTests.Transports;

namespace Eddy.FunctionalTests.Reliability;

/// <summary>Drives a server in a child process with a low descriptor limit to the point where accept(2) fails with EMFILE.</summary>
internal static class DescriptorExhaustion
{
    /// <summary>
    /// Opens connections one at a time, each asked <paramref name="probe"/> (true once the server answered it),
    /// until the server reports EMFILE (<paramref name="emfileReported"/>). Every connection answered before the report
    /// is served. The one still unanswered when it comes is undecided: accept(2) fails with EMFILE as soon as no
    /// descriptor is free, even with no connection waiting, so the report may follow the accept that took the last
    /// descriptor, for this very connection. It must be answered in the end; it proves nothing before.
    /// No timing decides which is which. Every socket opened is added to <paramref name="opened"/>.
    /// </summary>
    public static async Task<(List<Socket> Served, Task<bool> Undecided)> ConnectUntilExhaustedAsync(
        EndPoint endPoint, Task emfileReported, Func<Socket, Task<bool>> probe, List<Socket> opened, int maxConnections = 1000)
    {
        var served = new List<Socket>();
        while (true)
        {
            Assert.True(opened.Count < maxConnections, $"{maxConnections} connections and the server still accepts: is the descriptor limit applied?");
            Socket client = await Client.ConnectAsync(endPoint);
            opened.Add(client);
            Task<bool> answered = probe(client);
            if (await Task.WhenAny(answered, emfileReported) != answered)
            {
                return (served, answered);
            }
            Assert.True(await answered, $"connection {opened.Count} was accepted but not answered");
            served.Add(client);
        }
    }
}
