using System.Text;
using Eddy.Http.Parsing.Internal;

namespace Eddy.UnitTests.Http.Parsing;

/// <summary>
/// The client half of the kit: every response ends exactly where it should, whatever the reads' split.
/// Each stream is framed whole, in every two-segment split and a byte at a time, fed as a connection
/// feeds it (what the reader leaves unconsumed is presented again with the next bytes), and must give
/// the same responses every time; an incomplete head consumes nothing.
/// </summary>
public sealed class HttpResponseReaderTests
{
    private static readonly Dictionary<string, string> s_streams = new()
    {
        ["content-length"] = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\nhello",
        ["chunked"] = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n",
        ["empty"] = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
        ["no-content"] = "HTTP/1.1 204 No Content\r\n\r\n",
        ["continue-then-final"] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ["http10-keep-alive"] = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc",
        ["not-modified"] = "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n",
        ["close"] = "HTTP/1.1 503 Busy\r\nConnection: Close\r\nContent-Length: 4\r\n\r\nbusy",
        ["pipelined"] = Pipelined,
    };

    // Eight responses, one of each framing: Content-Length, chunked (extension, trailer), empty, 204, 100 then 200,
    // HTTP/1.0 keep-alive, 304 with a Content-Length but no body, and last Connection: close.
    private const string Pipelined =
        "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\nhello" +
        "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n" +
        "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n" +
        "HTTP/1.1 204 No Content\r\n\r\n" +
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" +
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc" +
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n" +
        "HTTP/1.1 503 Busy\r\nConnection: Close\r\nContent-Length: 4\r\n\r\nbusy";

    public static TheoryData<string> StreamNames => new(s_streams.Keys);

    [Fact]
    public void EveryResponseEndsWhereItShouldWhenReadWhole()
    {
        (int, bool)[] expected = [(200, false), (201, false), (404, false), (204, false), (200, false), (200, false), (304, false), (503, true)];

        Assert.Equal(expected, ReadAll([Bytes(Pipelined)]));
    }

    [Theory]
    [MemberData(nameof(StreamNames))]
    public void EveryTwoSegmentSplitFramesTheSameResponses(string name)
    {
        byte[] bytes = Bytes(s_streams[name]);
        List<(int, bool)> expected = ReadAll([bytes]);
        Assert.NotEmpty(expected);

        for (int split = 0; split <= bytes.Length; split++)
        {
            Assert.Equal(expected, ReadAll([bytes[..split], bytes[split..]]));
        }
    }

    [Theory]
    [MemberData(nameof(StreamNames))]
    public void OneByteAtATimeFramesTheSameResponses(string name)
    {
        byte[] bytes = Bytes(s_streams[name]);

        Assert.Equal(ReadAll([bytes]), ReadAll(bytes.Select(b => new[] { b }).ToArray()));
    }

    [Theory]
    [MemberData(nameof(StreamNames))]
    public void EveryPrefixOfAHeadNeedsMoreDataAndConsumesNothing(string name)
    {
        byte[] bytes = Bytes(s_streams[name]);
        int headLength = s_streams[name].IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        var growing = new HttpResponseReader(isHeadRequest: false);

        for (int length = 0; length < headLength; length++)
        {
            Assert.Equal(ResponseReadStatus.NeedMoreData, new HttpResponseReader(isHeadRequest: false).Read(bytes.AsSpan(0, length), out int consumed));
            Assert.Equal(0, consumed);

            // The same reader, given the same bytes plus more each time, as a connection gives it.
            Assert.Equal(ResponseReadStatus.NeedMoreData, growing.Read(bytes.AsSpan(0, length), out consumed));
            Assert.Equal(0, consumed);
            Assert.True(growing.IsBetweenResponses);
        }
    }

    [Fact]
    public void AResponseToHeadHasNoBodyWhateverItsContentLength()
    {
        var reader = new HttpResponseReader(isHeadRequest: true);
        byte[] two = Bytes("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n");

        Assert.Equal(ResponseReadStatus.Complete, reader.Read(two, out int first));
        Assert.Equal(ResponseReadStatus.Complete, reader.Read(two.AsSpan(first), out int second));
        Assert.Equal(two.Length, first + second);
    }

    [Fact]
    public void ABodyWithoutLengthRunsUntilTheServerCloses()
    {
        var reader = new HttpResponseReader(isHeadRequest: false);
        byte[] response = Bytes("HTTP/1.0 200 OK\r\n\r\nsome body of unknown length");

        Assert.Equal(ResponseReadStatus.NeedMoreData, reader.Read(response, out int consumed));
        Assert.Equal(response.Length, consumed);
        Assert.True(reader.IsConnectionClose);
        Assert.True(reader.TryCompleteAtEof());
        Assert.False(reader.TryCompleteAtEof());
    }

    [Fact]
    public void ResetForgetsABodyInProgress()
    {
        var reader = new HttpResponseReader(isHeadRequest: false);
        Assert.Equal(ResponseReadStatus.NeedMoreData, reader.Read(Bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), out _));
        Assert.False(reader.IsBetweenResponses);

        reader.Reset();

        Assert.True(reader.IsBetweenResponses);
        Assert.Equal(ResponseReadStatus.Complete, reader.Read(Bytes("HTTP/1.1 204 No Content\r\n\r\n"), out _));
        Assert.Equal(204, reader.StatusCode);
    }

    [Theory]
    [InlineData("HTTP/2 200 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 2x0 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 099 Low\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")]
    public void AResponseThatCannotBeFramedIsAFormatError(string response)
    {
        var reader = new HttpResponseReader(isHeadRequest: false);

        Assert.Throws<HttpResponseFormatException>(() => reader.Read(Bytes(response), out _));
    }

    [Fact]
    public void AnOverlongHeadIsAFormatErrorNotABufferWithoutEnd()
    {
        var reader = new HttpResponseReader(isHeadRequest: false);
        byte[] head = Bytes("HTTP/1.1 200 OK\r\nX: " + new string('a', HttpResponseReader.MaxHeadBytes));

        Assert.Throws<HttpResponseFormatException>(() => reader.Read(head, out _));
    }

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);

    /// <summary>
    /// Feeds the segments as a connection does: what the reader leaves unconsumed (an incomplete head or
    /// trailer line) is presented again, with the next segment appended. Returns each response's status and
    /// whether the server said it would close.
    /// </summary>
    private static List<(int Status, bool Close)> ReadAll(byte[][] segments)
    {
        var reader = new HttpResponseReader(isHeadRequest: false);
        var responses = new List<(int, bool)>();
        byte[] pending = [];
        foreach (byte[] segment in segments)
        {
            pending = [.. pending, .. segment];
            int position = 0;
            while (position < pending.Length)
            {
                ResponseReadStatus status = reader.Read(pending.AsSpan(position), out int consumed);
                position += consumed;
                if (status == ResponseReadStatus.NeedMoreData)
                {
                    break;
                }
                responses.Add((reader.StatusCode, reader.IsConnectionClose));
            }
            pending = pending[position..];
        }
        Assert.Empty(pending);
        Assert.True(reader.IsBetweenResponses);
        return responses;
    }
}
