using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using Eddy.Fuzz;
using Eddy.Http;
using Eddy.Web;
using Eddy.Web.Routing;

namespace Eddy.UnitTests.Http;

/// <summary>
/// The whole connection, not just the parser: what a client gets back must not depend on how its bytes
/// were cut into reads. Valid requests followed by any bytes at all, cut anywhere: the valid requests are
/// answered intact and in order, then at most one error response, then the connection closes; and the
/// response stream is the same, byte for byte (but for the Date), as when everything arrives in one read.
/// </summary>
public partial class HttpConnectionSplitTests
{
    internal sealed record ValidRequest(int Id, string Method, string Route, Framing Framing, byte[] Body, int[] ChunkSizes)
    {
        public byte[] Encode()
        {
            var head = new StringBuilder().Append(Method).Append(' ').Append(Route).Append(Id).Append(" HTTP/1.1\r\nHost: test\r\n");
            var bytes = new MemoryStream();
            switch (Framing)
            {
                case Framing.None:
                    Write(bytes, head.Append("\r\n").ToString());
                    break;
                case Framing.ContentLength:
                    Write(bytes, head.Append("Content-Length: ").Append(Body.Length).Append("\r\n\r\n").ToString());
                    bytes.Write(Body);
                    break;
                case Framing.Chunked:
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
                    break;
            }
            return bytes.ToArray();
        }

        /// <summary>What the echo handlers answer: the id, then the body as read (empty for the route that reads none).</summary>
        public byte[] ExpectedAnswer => [.. Encoding.ASCII.GetBytes($"{Id}:"), .. Route == "/ignore/" ? [] : Body];
    }

    internal enum Framing
    {
        None,
        ContentLength,
        Chunked,
    }

    private static void Write(MemoryStream stream, string text) => stream.Write(Encoding.ASCII.GetBytes(text));

    private static readonly Gen<ValidRequest> s_request =
        from route in Gen.OneOf("/sync/", "/async/", "/ignore/")
        from framing in Gen.Enum<Framing>()
        from chunkSizes in Gen.Int[1, 300].Array[0, 3]
        from plain in Gen.Byte.Array[0, 700]
        let body = framing == Framing.None ? [] : framing == Framing.Chunked ? Fill(chunkSizes.Sum(), plain) : plain
        from method in framing == Framing.None ? Gen.OneOf("GET", "DELETE") : Gen.OneOf("POST", "PUT")
        select new ValidRequest(0, method, route, framing, body, framing == Framing.Chunked ? chunkSizes : []);

    private static byte[] Fill(int length, byte[] source)
    {
        var body = new byte[length];
        for (int i = 0; i < length; i++)
        {
            body[i] = source.Length == 0 ? (byte)('a' + i % 26) : source[i % source.Length];
        }
        return body;
    }

    /// <summary>What may follow the valid requests: nothing, any bytes, or a request broken in one of the ways clients break them.</summary>
    private static readonly Gen<byte[]> s_suffix = Gen.OneOf(
        Gen.Const(Array.Empty<byte>()),
        Gen.Byte.Array[1, 200],
        Gen.OneOf(
            "GARBAGE\r\n\r\n",
            "GET /x HTTP/1.1\r\nHost: test\r\nNo colon here\r\n\r\n",
            "GET /x HTTP/1.1\r\nHost: test\r\nBad\0Value: 1\r\n\r\n",
            "GET  /x HTTP/1.1\r\nHost: test\r\n\r\n",
            "GET /x HTTP/9.9\r\nHost: test\r\n\r\n",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "GET /x HTTP/1.1\n\n",
            "POST /sync/99 HTTP/1.1\r\nHost: test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            "POST /sync/99 HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "POST /sync/99 HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX",
            "POST /sync/99 HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nonly",
            "GET /sync/99 HTTP/1.1\r\nHost: te").Select(s => Encoding.Latin1.GetBytes(s)));

    [Fact]
    public void ValidRequestsBeforeBadBytesAreAnsweredInOrderHoweverTheBytesAreSplit()
    {
        Gen.Select(s_request.Array[1, 6], s_suffix, Gen.Int[1, 400].Array[1, 8]).Sample((requests, suffix, cuts) =>
        {
            requests = [.. requests.Select((r, i) => r with { Id = i })];
            byte[] stream = [.. requests.SelectMany(r => r.Encode()), .. suffix];

            Exchange whole = Exchange.Run(stream, [stream.Length]);
            Exchange split = Exchange.Run(stream, cuts);

            foreach (Exchange exchange in new[] { whole, split })
            {
                List<Response> responses = Response.ParseAll(exchange.Output, out int rest);
                Assert.True(responses.Count >= requests.Length, $"{responses.Count} responses to {requests.Length} valid requests:\n{exchange.Text}");
                for (int i = 0; i < requests.Length; i++)
                {
                    Assert.True(responses[i].Status == 200, $"response {i} is {responses[i].Status}:\n{exchange.Text}");
                    Assert.Equal(requests[i].ExpectedAnswer, responses[i].Body);
                }
                Assert.True(responses.Count <= requests.Length + 1, $"more than one answer to the bytes after the valid requests:\n{exchange.Text}");
                if (responses.Count == requests.Length + 1)
                {
                    Assert.InRange(responses[^1].Status, 400, 599);
                    Assert.True(responses[^1].CloseConnection, "an error response must say Connection: close");
                }
                Assert.Equal(0, rest);
                Assert.True(exchange.Closed, "the connection must close after an error, or at the client's EOF");
                Assert.Empty(exchange.Errors);
            }
            Assert.Equal(whole.Normalized, split.Normalized);
        }, iter: 1000, threads: 1);
    }

    /// <summary>One connection fed <paramref name="stream"/> in pieces of the given sizes (used in turn), then EOF.</summary>
    private sealed record Exchange(byte[] Output, bool Closed, IReadOnlyList<Exception> Errors)
    {
        public string Text => Encoding.Latin1.GetString(Output);

        public string Normalized => DateLine().Replace(Text, "Date: *");

        public static Exchange Run(byte[] stream, int[] cuts)
        {
            using var http = new InMemoryHttp(ConnectionTarget.App); // the fuzz target's echo app
            http.Run(async () =>
            {
                int sent = 0;
                for (int i = 0; sent < stream.Length; i++)
                {
                    int size = Math.Min(cuts[i % cuts.Length], stream.Length - sent);
                    await http.SendAsync(stream.AsMemory(sent, size));
                    sent += size;
                }
                await http.SendEofAsync();
            });
            return new Exchange(http.Output, http.Transport.ServerEnded, http.Errors);
        }
    }

    [GeneratedRegex("Date: [^\r]*")]
    private static partial Regex DateLine();

    internal sealed record Response(int Status, bool CloseConnection, byte[] Body)
    {
        /// <summary>Splits a stream of responses framed by Content-Length or chunked; <paramref name="rest"/> is what is left that is not a whole response.</summary>
        public static List<Response> ParseAll(byte[] data, out int rest)
        {
            var responses = new List<Response>();
            int at = 0;
            while (TryParse(data, ref at, out Response? response))
            {
                responses.Add(response!);
            }
            rest = data.Length - at;
            return responses;
        }

        private static bool TryParse(byte[] data, ref int at, out Response? response)
        {
            response = null;
            int end = data.AsSpan(at).IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                return false;
            }
            string[] lines = Encoding.Latin1.GetString(data, at, end).Split("\r\n");
            int status = int.Parse(lines[0].Split(' ')[1]);
            var fields = lines.Skip(1).Select(l => l.Split(": ", 2)).ToDictionary(p => p[0].ToLowerInvariant(), p => p[1]);
            int position = at + end + 4;
            var body = new MemoryStream();
            if (fields.TryGetValue("content-length", out string? length))
            {
                int n = int.Parse(length);
                if (position + n > data.Length)
                {
                    return false;
                }
                body.Write(data, position, n);
                position += n;
            }
            else if (fields.TryGetValue("transfer-encoding", out _))
            {
                while (true)
                {
                    int lineEnd = data.AsSpan(position).IndexOf("\r\n"u8);
                    if (lineEnd < 0)
                    {
                        return false;
                    }
                    int size = Convert.ToInt32(Encoding.ASCII.GetString(data, position, lineEnd), 16);
                    position += lineEnd + 2;
                    if (size == 0)
                    {
                        position += 2;
                        break;
                    }
                    body.Write(data, position, size);
                    position += size + 2;
                }
            }
            at = position;
            response = new Response(status, fields.TryGetValue("connection", out string? c) && c == "close", body.ToArray());
            return true;
        }
    }
}
