using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Eddy.FunctionalTests.Http;
using Eddy.FunctionalTests.Transports;
using Xunit.Abstractions;

namespace Eddy.FunctionalTests.Reliability;

/// <summary>
/// Concurrent clients post random bodies (0–256 KiB, Content-Length or chunked in random pieces, some
/// pipelined) to <c>/anything</c>, and each gets exactly its own body back: nothing lost, reordered or
/// mixed between connections or between pipelined requests. Seeded, so a failure reproduces.
/// </summary>
public class DataIntegrityTests(ITestOutputHelper output) : IDisposable
{
    private const int Seed = 20261126;
    private const int Clients = 16;
    private const int RequestsPerClient = 8;
    private const int MaxBody = 256 * 1024;

    private readonly HttpTestServer _server = new(ReliabilityApp.Create());
    private long _bytesChecked;

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task ConcurrentRandomBodiesAreEchoedExactly()
    {
        int[] checkedBodies = await Task.WhenAll(Enumerable.Range(0, Clients).Select(RunClientAsync)).WaitAsync(TimeSpan.FromSeconds(60));

        output.WriteLine($"{checkedBodies.Sum()} bodies ({Interlocked.Read(ref _bytesChecked):N0} bytes) echoed exactly over {Clients} concurrent connections");
        Assert.Equal(Clients * RequestsPerClient, checkedBodies.Sum());
        Assert.Empty(_server.Errors);
    }

    /// <summary>One client's requests, in groups of 1–3 sent in one write (pipelined); returns how many bodies it checked.</summary>
    private async Task<int> RunClientAsync(int client)
    {
        var random = new Random(Seed + client);
        using Socket socket = await Client.ConnectAsync(_server.EndPoint);
        await using var stream = new NetworkStream(socket);
        var reader = new ResponseReader(stream);
        int done = 0;
        while (done < RequestsPerClient)
        {
            int group = Math.Min(random.Next(1, 4), RequestsPerClient - done);
            var bodies = new List<string>();
            var wire = new MemoryStream();
            for (int i = 0; i < group; i++)
            {
                string body = RandomBody(random);
                bodies.Add(body);
                WriteRequest(wire, $"/anything/{client}/{done + i}", body, chunked: random.Next(2) == 0, random);
            }
            await stream.WriteAsync(wire.ToArray());
            for (int i = 0; i < group; i++)
            {
                using JsonDocument echo = JsonDocument.Parse(await reader.ReadBodyAsync());
                Assert.Equal($"/anything/{client}/{done + i}", echo.RootElement.GetProperty("url").GetString());
                string? data = echo.RootElement.GetProperty("data").GetString();
                Assert.True(data == bodies[i], $"client {client}, request {done + i}: a body of {bodies[i].Length} bytes came back as {data?.Length} different bytes (seed {Seed})");
                Interlocked.Add(ref _bytesChecked, bodies[i].Length);
            }
            done += group;
        }
        return done;
    }

    /// <summary>0–256 KiB of printable ASCII (the echo returns the body as a JSON string, so it must be valid UTF-8), quotes and backslashes included.</summary>
    private static string RandomBody(Random random)
    {
        int length = random.Next(4) == 0 ? random.Next(0, 16) : random.Next(0, MaxBody + 1);
        return string.Create(length, random, static (span, r) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = (char)r.Next(0x20, 0x7f);
            }
        });
    }

    private static void WriteRequest(MemoryStream wire, string path, string body, bool chunked, Random random)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(body);
        string framing = chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {bytes.Length}";
        wire.Write(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n"));
        if (!chunked)
        {
            wire.Write(bytes);
            return;
        }
        for (int offset = 0; offset < bytes.Length;)
        {
            int n = Math.Min(bytes.Length - offset, random.Next(1, 32 * 1024));
            wire.Write(Encoding.ASCII.GetBytes($"{n:x}\r\n"));
            wire.Write(bytes, offset, n);
            wire.Write("\r\n"u8);
            offset += n;
        }
        wire.Write("0\r\n\r\n"u8);
    }

    /// <summary>Reads responses framed with Content-Length off a stream, one after another.</summary>
    private sealed class ResponseReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        public async Task<byte[]> ReadBodyAsync()
        {
            using var timeout = new CancellationTokenSource(TestTimeouts.Wait);
            int headEnd;
            while ((headEnd = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0)
            {
                await FillAsync(timeout.Token);
            }
            string head = Encoding.ASCII.GetString(_buffer, _start, headEnd);
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", head);
            string lengthLine = head.Split("\r\n").Single(l => l.StartsWith("Content-Length: ", StringComparison.Ordinal));
            int length = int.Parse(lengthLine["Content-Length: ".Length..]);
            _start += headEnd + 4;
            var body = new byte[length];
            for (int copied = 0; copied < length;)
            {
                if (_start == _end)
                {
                    await FillAsync(timeout.Token);
                }
                int n = Math.Min(length - copied, _end - _start);
                _buffer.AsSpan(_start, n).CopyTo(body.AsSpan(copied));
                _start += n;
                copied += n;
            }
            return body;
        }

        private async Task FillAsync(CancellationToken cancellationToken)
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            Assert.True(_end < _buffer.Length, "a response head larger than 64 KiB");
            int n = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            Assert.True(n > 0, "the server closed the connection in the middle of the responses");
            _end += n;
        }
    }
}
