using System.Text;
using Eddy.Http;
using Eddy.Http.Internal;
using Eddy.Loop;
using Microsoft.Win32.SafeHandles;

namespace Eddy.UnitTests.Http;

/// <summary>
/// <see cref="HttpResponse.SendFileAsync"/> chooses its path: file regions for the transport (sendfile) when the
/// body goes as it is, reading and writing when it cannot (no sendfile on the connection, a compressed body, a
/// chunked body), nothing for HEAD; and it keeps the Content-Length promise.
/// </summary>
public sealed class HttpResponseSendFileTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"eddy-response-file-{Guid.NewGuid():N}.txt");

    public HttpResponseSendFileTests() => File.WriteAllText(_path, "0123456789abcdefghij");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public async Task APlainBodyHandsTheRegionToTheTransportAfterTheHead()
    {
        var output = new ResponseBuffer();
        var sink = new RecordingSink(canSendFile: true, output);
        var response = new HttpResponse(output, sink);
        using SafeFileHandle file = File.OpenHandle(_path);

        await response.SendFileAsync(file, 5, 10);

        Assert.Equal([(5L, 10)], sink.Regions);
        string head = Encoding.ASCII.GetString(sink.FlushedBeforeFirstRegion);
        Assert.Contains("Content-Length: 10\r\n", head);
        Assert.EndsWith("\r\n\r\n", head);
        Assert.Equal(10, response.BodyBytes);
        response.CompleteStream();
        Assert.False(response.IsTruncated);
    }

    [Fact]
    public async Task WithoutSendFileTheBytesAreReadAndWritten()
    {
        var output = new ResponseBuffer();
        var sink = new RecordingSink(canSendFile: false, output);
        var response = new HttpResponse(output, sink);
        using SafeFileHandle file = File.OpenHandle(_path);

        await response.SendFileAsync(file, 5, 10);

        Assert.Empty(sink.Regions);
        Assert.EndsWith("\r\n\r\n56789abcde", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public async Task AChunkedBodyIsCopiedInChunksNotSentAsARawRegion()
    {
        var output = new ResponseBuffer();
        var sink = new RecordingSink(canSendFile: true, output);
        var response = new HttpResponse(output, sink);
        using SafeFileHandle file = File.OpenHandle(_path);

        await response.WriteAsync("<"u8.ToArray()); // a streamed (chunked) body has begun
        await response.SendFileAsync(file, 0, 4);

        Assert.Empty(sink.Regions);
        Assert.EndsWith("1\r\n<\r\n4\r\n0123\r\n", Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public async Task HeadSendsNoBodyAndAnOverlongRegionIsRefused()
    {
        var sink = new RecordingSink(canSendFile: true, new ResponseBuffer());
        using SafeFileHandle file = File.OpenHandle(_path);
        var head = new HttpResponse(new ResponseBuffer(), sink) { IsHead = true };
        await head.SendFileAsync(file, 0, 20);
        Assert.Empty(sink.Regions);

        var get = new HttpResponse(new ResponseBuffer(), sink);
        get.BeginBody(10);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await get.SendFileAsync(file, 0, 11));
        Assert.Empty(sink.Regions);
    }

    /// <summary>A connection that records the regions it is given, and what the response had buffered before the first.</summary>
    private sealed class RecordingSink(bool canSendFile, ResponseBuffer output) : IResponseSink
    {
        public List<(long Offset, int Count)> Regions { get; } = [];

        public byte[] FlushedBeforeFirstRegion { get; private set; } = [];

        public bool CanSendFile => canSendFile;

        public CancellationToken RequestAborted => CancellationToken.None;

        public EventLoop Loop => throw new NotSupportedException();

        public ValueTask FlushAsync() => default;

        public ValueTask SendFileAsync(SafeFileHandle file, long offset, int count)
        {
            if (Regions.Count == 0)
            {
                FlushedBeforeFirstRegion = output.WrittenSpan.ToArray();
            }
            Regions.Add((offset, count));
            return default;
        }
    }
}
