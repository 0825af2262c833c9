using System.Text;
using Eddy.Cli.Load.Http;

namespace Eddy.FunctionalTests.Cli;

/// <summary>
/// The response framing of <c>eddy load http</c>: every response ends exactly where it should, whatever
/// the reads' split — each stream is fed whole, in every two-segment split, and a byte at a time.
/// </summary>
public class LoadHttpResponseReaderTests
{
    // Eight responses, one of each framing: Content-Length, chunked (extension, trailer), empty, 204, 100 then 200,
    // HTTP/1.0 keep-alive, 304 with a Content-Length but no body, and last Connection: close.
    private const string Stream =
        "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\nhello" +
        "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n" +
        "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n" +
        "HTTP/1.1 204 No Content\r\n\r\n" +
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" +
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc" +
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n" +
        "HTTP/1.1 503 Busy\r\nConnection: Close\r\nContent-Length: 4\r\n\r\nbusy";

    private static readonly (int Status, bool Close)[] Expected =
        [(200, false), (201, false), (404, false), (204, false), (200, false), (200, false), (304, false), (503, true)];

    [Fact]
    public void EveryResponseEndsWhereItShouldWhenReadWhole()
    {
        Assert.Equal(Expected, ReadAll([Encoding.ASCII.GetBytes(Stream)]));
    }

    [Fact]
    public void EveryTwoSegmentSplitFramesTheSameResponses()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(Stream);
        for (int split = 1; split < bytes.Length; split++)
        {
            Assert.Equal(Expected, ReadAll([bytes[..split], bytes[split..]]));
        }
    }

    [Fact]
    public void OneByteAtATimeFramesTheSameResponses()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(Stream);
        Assert.Equal(Expected, ReadAll(bytes.Select(b => new[] { b }).ToArray()));
    }

    [Fact]
    public void AResponseToHeadHasNoBodyWhateverItsContentLength()
    {
        var reader = new HttpResponseReader(isHeadRequest: true);
        byte[] two = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n");

        Assert.Equal(ResponseReadStatus.Complete, reader.Read(two, out int first));
        Assert.Equal(ResponseReadStatus.Complete, reader.Read(two.AsSpan(first), out int second));
        Assert.Equal(two.Length, first + second);
    }

    [Fact]
    public void ABodyWithoutLengthRunsUntilTheServerCloses()
    {
        var reader = new HttpResponseReader(isHeadRequest: false);
        byte[] response = Encoding.ASCII.GetBytes("HTTP/1.0 200 OK\r\n\r\nsome body of unknown length");

        Assert.Equal(ResponseReadStatus.NeedMoreData, reader.Read(response, out int consumed));
        Assert.Equal(response.Length, consumed);
        Assert.True(reader.IsConnectionClose);
        Assert.True(reader.TryCompleteAtEof());
        Assert.False(reader.TryCompleteAtEof());
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

        Assert.Throws<HttpResponseFormatException>(() => reader.Read(Encoding.ASCII.GetBytes(response), out _));
    }

    [Fact]
    public void AnOverlongHeadIsAFormatErrorNotABufferWithoutEnd()
    {
        var reader = new HttpResponseReader(isHeadRequest: false);
        byte[] head = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nX: " + new string('a', HttpResponseReader.MaxHeadBytes));

        Assert.Throws<HttpResponseFormatException>(() => reader.Read(head, out _));
    }

    /// <summary>
    /// Feeds the segments as a connection does: what the reader leaves unconsumed (an incomplete head or
    /// trailer line) is presented again, with the next segment appended.
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
        return responses;
    }
}
