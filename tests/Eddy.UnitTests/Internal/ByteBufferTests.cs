using Eddy.Internal;

namespace Eddy.UnitTests.Internal;

/// <summary>The carry-over buffer: a byte queue whatever the interleaving of appends and consumes, linear copying, no array when idle.</summary>
public sealed class ByteBufferTests
{
    [Fact]
    public void BytesComeOutInTheOrderTheyWentInWhateverTheInterleaving()
    {
        var random = new Random(12);
        var buffer = new ByteBuffer();
        var expected = new Queue<byte>();
        byte next = 0;
        for (int step = 0; step < 20_000; step++)
        {
            if (random.Next(2) == 0)
            {
                byte[] data = new byte[random.Next(0, 3000)];
                for (int i = 0; i < data.Length; i++)
                {
                    data[i] = next;
                    expected.Enqueue(next++);
                }
                buffer.Append(data);
            }
            else
            {
                int count = random.Next(0, buffer.Length + 1);
                Assert.Equal(expected.Take(count).ToArray(), buffer.Span[..count].ToArray());
                buffer.Consume(count);
                for (int i = 0; i < count; i++)
                {
                    expected.Dequeue();
                }
            }
            Assert.Equal(expected.Count, buffer.Length);
            Assert.Equal(expected.Count == 0, buffer.IsEmpty);
        }
        Assert.Equal(expected.ToArray(), buffer.Span.ToArray());
    }

    [Fact]
    public void ABufferReadAsFastAsItFillsKeepsItsArray()
    {
        var buffer = new ByteBuffer();
        byte[] chunk = new byte[700];
        buffer.Append(chunk); // a reader one chunk behind
        buffer.Append(chunk);
        buffer.Consume(chunk.Length);
        int capacity = buffer.Capacity;
        for (int i = 0; i < 10_000; i++)
        {
            buffer.Append(chunk);
            buffer.Consume(chunk.Length);
        }
        Assert.Equal(capacity, buffer.Capacity);
    }

    [Fact]
    public void AnAppendThatDoesNotFitCompactsWhenMostWasConsumed()
    {
        var buffer = new ByteBuffer();
        buffer.Append(new byte[60_000]);
        int capacity = buffer.Capacity;
        buffer.Consume(59_000);

        buffer.Append(new byte[capacity - 60_000 + 1]); // past the end; 1,000 bytes held move to the front

        Assert.Equal(capacity, buffer.Capacity);
    }

    [Fact]
    public void AnAppendThatDoesNotFitGrowsWhenMoreIsHeldThanWasConsumed()
    {
        // Moving 59,900 bytes to reclaim 100 would let a reader that consumes a little at a time cost a copy of
        // the whole residue per append (quadratic); growing keeps the copying linear.
        var buffer = new ByteBuffer();
        buffer.Append(new byte[60_000]);
        int capacity = buffer.Capacity;
        buffer.Consume(100);

        buffer.Append(new byte[capacity - 60_000 + 1]);

        Assert.True(buffer.Capacity > capacity, $"capacity {buffer.Capacity}, was {capacity}");
        Assert.Equal(59_900 + capacity - 60_000 + 1, buffer.Length);
    }

    [Fact]
    public void ReleaseDropsTheBytesAndTheArray()
    {
        var buffer = new ByteBuffer();
        buffer.Append("abc"u8);
        buffer.Release();
        Assert.True(buffer.IsEmpty);
        Assert.Equal(0, buffer.Capacity);
        buffer.Append("de"u8);
        Assert.Equal("de"u8.ToArray(), buffer.Span.ToArray());
    }

    [Fact]
    public void ConsumingMoreThanIsHeldThrows()
    {
        var buffer = new ByteBuffer();
        buffer.Append("abc"u8);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Consume(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Consume(-1));
    }
}
