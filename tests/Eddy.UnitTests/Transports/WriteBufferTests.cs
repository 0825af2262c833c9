using Eddy.Transports.Internal;
using Microsoft.Win32.SafeHandles;

namespace Eddy.UnitTests.Transports;

public class WriteBufferTests
{
    [Fact]
    public void GatherReturnsTheAppendedBytesInOrderAcrossChunks()
    {
        var buffer = new WriteBuffer();
        byte[] expected = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
        var random = new Random(3);
        for (int offset = 0; offset < expected.Length;)
        {
            int n = Math.Min(expected.Length - offset, random.Next(1, 20_000));
            buffer.Append(expected.AsSpan(offset, n));
            offset += n;
        }

        Assert.Equal(expected.Length, buffer.Length);
        Assert.Equal(expected, Drain(buffer, random));
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void AFileRegionKeepsItsPlaceStopsAGatherAndHoldsItsHandleUntilSentOrCleared()
    {
        string path = Path.GetTempFileName();
        try
        {
            var buffer = new WriteBuffer();
            SafeFileHandle file = File.OpenHandle(path);
            buffer.Append("before"u8);
            buffer.AppendFile(file, 10, 1000);
            buffer.Append("after"u8);
            file.Dispose(); // the buffer's reference keeps the descriptor open
            var segments = new ReadOnlyMemory<byte>[8];

            Assert.Equal(1011, buffer.Length);
            Assert.Equal(1, buffer.Gather(segments, out long bytes));
            Assert.Equal(6, bytes);
            Assert.False(buffer.HeadIsFile);
            buffer.Consume(6);
            Assert.True(buffer.HeadIsFile);
            Assert.Equal((10L, 1000L), (buffer.HeadFile.Offset, buffer.HeadFile.Remaining));
            Assert.False(file.IsInvalid);
            buffer.Consume(400);
            Assert.Equal((410L, 600L), (buffer.HeadFile.Offset, buffer.HeadFile.Remaining));
            buffer.Consume(602); // the rest of the region and two bytes after it
            Assert.False(buffer.HeadIsFile);
            Assert.Equal(1, buffer.Gather(segments, out _));
            Assert.Equal("ter"u8.ToArray(), segments[0].ToArray());

            SafeFileHandle second = File.OpenHandle(path);
            buffer.AppendFile(second, 0, 5);
            second.Dispose();
            bool added = false;
            second.DangerousAddRef(ref added); // still referenced by the buffer: AddRef succeeds
            second.DangerousRelease();
            buffer.Clear();
            Assert.Throws<ObjectDisposedException>(() => second.DangerousAddRef(ref added)); // the last reference is gone
            Assert.Equal(0, buffer.Length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ConsumeInsideAChunkKeepsTheRestOfIt()
    {
        var buffer = new WriteBuffer();
        buffer.Append("hello, world"u8);
        buffer.Consume(7);

        var segments = new ReadOnlyMemory<byte>[4];
        int count = buffer.Gather(segments, out _);

        Assert.Equal(1, count);
        Assert.Equal("world"u8.ToArray(), segments[0].ToArray());
        Assert.Equal(5, buffer.Length);
    }

    [Fact]
    public void GatherFillsNoMoreSegmentsThanGiven()
    {
        var buffer = new WriteBuffer();
        buffer.Append(new byte[16 * 1024]);
        buffer.Append(new byte[2 * 1024 * 1024]);
        buffer.Append(new byte[16 * 1024]);

        var segments = new ReadOnlyMemory<byte>[1];
        Assert.Equal(1, buffer.Gather(segments, out _));
    }

    [Fact]
    public void ClearDropsEverything()
    {
        var buffer = new WriteBuffer();
        buffer.Append(new byte[50_000]);
        buffer.Clear();

        Assert.True(buffer.IsEmpty);
        Assert.Equal(0, buffer.Gather(new ReadOnlyMemory<byte>[4], out _));
        buffer.Append("again"u8);
        Assert.Equal(5, buffer.Length);
    }

    [Fact]
    public void AppendingEmptyDataChangesNothing()
    {
        var buffer = new WriteBuffer();
        buffer.Append(ReadOnlySpan<byte>.Empty);
        Assert.True(buffer.IsEmpty);
        Assert.Equal(0, buffer.Gather(new ReadOnlyMemory<byte>[4], out _));
    }

    /// <summary>Reads the buffer out the way a transport does: gather, "send" a random part, consume.</summary>
    private static byte[] Drain(WriteBuffer buffer, Random random)
    {
        var output = new List<byte>();
        var segments = new ReadOnlyMemory<byte>[3];
        while (!buffer.IsEmpty)
        {
            int count = buffer.Gather(segments, out _);
            int available = segments.Take(count).Sum(s => s.Length);
            int sent = random.Next(1, available + 1);
            int left = sent;
            for (int i = 0; i < count && left > 0; i++)
            {
                int n = Math.Min(left, segments[i].Length);
                output.AddRange(segments[i].Span[..n].ToArray());
                left -= n;
            }
            buffer.Consume(sent);
        }
        return output.ToArray();
    }
}
