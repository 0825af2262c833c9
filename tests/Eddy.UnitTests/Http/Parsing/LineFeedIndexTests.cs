using System.Text;
using CsCheck;
using Eddy.Http.Internal;
using Eddy.Http.Parsing.Internal;

namespace Eddy.UnitTests.Http.Parsing;

/// <summary>
/// The parser's vectorized line index must answer exactly as the plain searches it replaces: the head's end
/// as <c>IndexOf("\r\n\r\n")</c>, each line's end as <c>IndexOf('\n')</c>, wherever the bytes fall across
/// its 64-byte blocks and its capacity.
/// </summary>
public sealed class LineFeedIndexTests
{
    // Mostly line breaks and CRs, so heads, bare LFs, lone CRs and CRLFCRLF split over block edges all come up.
    private static readonly Gen<byte[]> s_genInput = Gen.Frequency(
        (3, Gen.Byte),
        (2, Gen.Const((byte)'\r')),
        (2, Gen.Const((byte)'\n')),
        (3, Gen.Byte[(byte)'a', (byte)'z'])).Array[0, 1200];

    [Fact]
    public void TheHeadEndsWhereTheFirstCrLfCrLfEndsWithinTheIndexedBytes()
    {
        s_genInput.Sample(input =>
        {
            var index = new LineFeedIndex(input, stackalloc ulong[LineFeedIndex.Capacity]);
            int length = index.FindHeadEnd();
            int end = input.AsSpan().IndexOf("\r\n\r\n"u8);
            int expected = end >= 0 && end + 4 <= index.IndexedLength ? end + 4 : -1;
            Assert.Equal(expected, length);
            if (length < 0)
            {
                // Nothing found: all of the input was indexed, or the capacity ran out first.
                Assert.True(index.IndexedLength == input.Length || index.IndexedLength == LineFeedIndex.Capacity * 64);
            }
        }, iter: 2000);
    }

    [Fact]
    public void EveryLineFeedIsFoundFromEveryPositionAsIndexOfFindsIt()
    {
        s_genInput.Sample(input =>
        {
            var index = new LineFeedIndex(input, stackalloc ulong[LineFeedIndex.Capacity]);
            index.FindHeadEnd();
            for (int from = 0; from <= input.Length; from++)
            {
                int found = input.AsSpan(from).IndexOf((byte)'\n');
                Assert.Equal(found < 0 ? -1 : from + found, index.Next(from));
            }
        }, iter: 300);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(60)]
    [InlineData(61)]
    [InlineData(62)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(1020)]
    [InlineData(1021)]
    public void ACrLfCrLfIsFoundAcrossABlockBoundary(int at)
    {
        byte[] input = Encoding.ASCII.GetBytes(new string('a', at) + "\r\n\r\n" + new string('b', 70));
        var index = new LineFeedIndex(input, stackalloc ulong[LineFeedIndex.Capacity]);
        Assert.Equal(at + 4 <= LineFeedIndex.Capacity * 64 ? at + 4 : -1, index.FindHeadEnd());
    }

    [Fact]
    public void AHeadLongerThanTheIndexIsLeftToTheSearchAndItsLinesAreStillFound()
    {
        string line = "X-Long: " + new string('v', 100) + "\r\n";
        byte[] input = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n" + string.Concat(Enumerable.Repeat(line, 20)) + "\r\n");
        var index = new LineFeedIndex(input, stackalloc ulong[LineFeedIndex.Capacity]);

        Assert.Equal(-1, index.FindHeadEnd());
        Assert.Equal(LineFeedIndex.Capacity * 64, index.IndexedLength);
        Assert.Equal(input.Length - 1, index.Next(input.Length - 2));
    }
}
