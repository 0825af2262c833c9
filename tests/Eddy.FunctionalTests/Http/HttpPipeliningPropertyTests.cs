using System.Net.Sockets;
using System.Text;
using CsCheck;
using Eddy.Web;

namespace Eddy.FunctionalTests.Http;

/// <summary>
/// Property: whatever the requests and however the byte stream is cut into writes, N pipelined requests get N
/// responses, in request order, each answering its own request (its id and its exact body).
/// </summary>
public class HttpPipeliningPropertyTests : IDisposable
{
    private readonly HttpTestServer _server = new(new WebApp()
        .MapAny("/sync/{id}", async ctx => Echo(ctx, await ctx.Request.ReadBodyAsync()))
        // Handlers that finish later than the ones after them in the pipeline: their answers must still come first.
        .MapAny("/async/{id}", async ctx =>
        {
            ReadOnlyMemory<byte> body = await ctx.Request.ReadBodyAsync();
            await ctx.Loop.Delay(TimeSpan.FromMilliseconds(body.Length % 3));
            Echo(ctx, body);
        }));

    public void Dispose()
    {
        _server.Dispose();
        Assert.Empty(_server.Errors);
    }

    private static void Echo(Eddy.Http.HttpContext ctx, ReadOnlyMemory<byte> body)
    {
        byte[] id = Encoding.ASCII.GetBytes(ctx.Request.RouteValues.GetString("id") + ":");
        ctx.Response.Bytes([.. id, .. body.Span]);
    }

    private sealed record PipelinedRequest(int Id, string Method, bool Async, bool Chunked, byte[] Body, int[] ChunkSizes)
    {
        public byte[] Encode(bool last)
        {
            var head = new StringBuilder()
                .Append(Method).Append(Async ? " /async/" : " /sync/").Append(Id).Append(" HTTP/1.1\r\nHost: test\r\n");
            if (last)
            {
                head.Append("Connection: close\r\n");
            }
            var bytes = new MemoryStream();
            if (!Chunked)
            {
                if (Body.Length > 0 || Method != "GET")
                {
                    head.Append("Content-Length: ").Append(Body.Length).Append("\r\n");
                }
                Write(bytes, head.Append("\r\n").ToString());
                bytes.Write(Body);
                return bytes.ToArray();
            }
            Write(bytes, head.Append("Transfer-Encoding: chunked\r\n\r\n").ToString());
            int offset = 0;
            foreach (int size in ChunkSizes)
            {
                Write(bytes, $"{size:x}\r\n");
                bytes.Write(Body, offset, size);
                Write(bytes, "\r\n");
                offset += size;
            }
            Write(bytes, "0\r\n\r\n");
            return bytes.ToArray();
        }

        private static void Write(MemoryStream stream, string text) => stream.Write(Encoding.ASCII.GetBytes(text));
    }

    private static readonly Gen<PipelinedRequest> s_genRequest =
        from method in Gen.OneOf("GET", "POST", "PUT", "DELETE")
        from isAsync in Gen.Int[0, 3].Select(i => i == 0)
        from chunked in Gen.Bool
        from chunkSizes in Gen.Int[1, 600].Array[0, 4]
        from plainBody in Gen.Byte.Array[0, 2000]
        let body = chunked ? new byte[chunkSizes.Sum()] : plainBody
        select new PipelinedRequest(0, method, isAsync, chunked, FillBody(body, plainBody), chunked ? chunkSizes : []);

    private static byte[] FillBody(byte[] body, byte[] source)
    {
        for (int i = 0; i < body.Length; i++)
        {
            body[i] = source.Length == 0 ? (byte)i : source[i % source.Length];
        }
        return body;
    }

    [Fact]
    public void PipelinedRequestsAreAnsweredInOrderHoweverTheStreamIsSplit()
    {
        Gen.Select(s_genRequest.Array[1, 24], Gen.Int[1, 3000].Array[1, 12]).Sample((requests, writeSizes) =>
        {
            requests = [.. requests.Select((request, i) => request with { Id = i })];
            byte[] stream = [.. requests.SelectMany((request, i) => request.Encode(last: i == requests.Length - 1))];

            using Socket socket = _server.ConnectAsync().GetAwaiter().GetResult();
            int sent = 0;
            for (int i = 0; sent < stream.Length; i++)
            {
                int size = Math.Min(writeSizes[i % writeSizes.Length], stream.Length - sent);
                socket.Send(stream.AsSpan(sent, size));
                sent += size;
            }
            byte[] received = HttpTestServer.ReadBytesToEndAsync(socket, 10_000).GetAwaiter().GetResult();

            List<(int Status, byte[] Body)> responses = ParseResponses(received);
            Assert.Equal(requests.Length, responses.Count);
            for (int i = 0; i < requests.Length; i++)
            {
                Assert.Equal(200, responses[i].Status);
                Assert.Equal([.. Encoding.ASCII.GetBytes($"{i}:"), .. requests[i].Body], responses[i].Body);
            }
        }, iter: 60, threads: 1);
    }

    /// <summary>Splits a byte stream of Content-Length-framed responses (what the echo handlers send).</summary>
    private static List<(int Status, byte[] Body)> ParseResponses(byte[] data)
    {
        var responses = new List<(int, byte[])>();
        int position = 0;
        while (position < data.Length)
        {
            int headEnd = data.AsSpan(position).IndexOf("\r\n\r\n"u8);
            Assert.True(headEnd >= 0, "a response head is cut short");
            string[] lines = Encoding.Latin1.GetString(data, position, headEnd).Split("\r\n");
            int status = int.Parse(lines[0].Split(' ')[1]);
            int length = lines.Skip(1)
                .Select(line => line.Split(':', 2))
                .Where(field => field[0].Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                .Select(field => int.Parse(field[1].Trim()))
                .Single();
            int bodyStart = position + headEnd + 4;
            Assert.True(bodyStart + length <= data.Length, "a response body is cut short");
            responses.Add((status, data[bodyStart..(bodyStart + length)]));
            position = bodyStart + length;
        }
        return responses;
    }
}
