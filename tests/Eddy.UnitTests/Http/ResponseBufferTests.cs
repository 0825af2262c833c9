using System.Text;
using Eddy.Http.Internal;

namespace Eddy.UnitTests.Http;

public sealed class ResponseBufferTests
{
    [Theory]
    [InlineData(0L)]
    [InlineData(9L)]
    [InlineData(10L)]
    [InlineData(99L)]
    [InlineData(100L)]
    [InlineData(999L)]
    [InlineData(1000L)]
    [InlineData(9999L)]
    [InlineData(10000L)]
    [InlineData(1234567L)]
    [InlineData(long.MaxValue)]
    public void TheContentLengthIsWrittenInDecimalAndEndsTheHead(long length)
    {
        var buffer = new ResponseBuffer();
        buffer.Write("X: y\r\n"u8);

        buffer.WriteContentLengthAndEndOfHead(length);

        Assert.Equal($"X: y\r\nContent-Length: {length}\r\n\r\n", Encoding.ASCII.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void AsciiTextIsNarrowedAndOtherTextBecomesQuestionMarksAsInAHeaderValue()
    {
        var buffer = new ResponseBuffer();

        buffer.WriteAscii("text/plain");
        buffer.WriteAscii("caf\u00e9!");

        Assert.Equal("text/plaincaf?!", Encoding.ASCII.GetString(buffer.WrittenSpan));
    }
}
