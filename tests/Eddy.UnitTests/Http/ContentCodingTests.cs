using Eddy.Http;
using Eddy.Http.Internal;

namespace Eddy.UnitTests.Http;

/// <summary>Accept-Encoding negotiation (RFC 9110 §12.5.3) and the compressible-type test of response compression.</summary>
public sealed class ContentCodingTests
{
    [Theory]
    [InlineData(null, "identity")]
    [InlineData("", "identity")]
    [InlineData("gzip", "gzip")]
    [InlineData("GZIP", "gzip")]
    [InlineData("x-gzip", "gzip")]
    [InlineData("br", "br")]
    [InlineData("gzip, deflate, br", "br")]      // a tie: brotli
    [InlineData("gzip;q=1.0, br;q=0.5", "gzip")]
    [InlineData("br;q=0, gzip", "gzip")]            // q=0 refuses
    [InlineData("gzip;q=0, br;q=0", "identity")]
    [InlineData("*", "br")]                     // every coding
    [InlineData("*;q=0.5, br;q=0.1", "gzip")]       // * stands for those not named
    [InlineData("*;q=0", "identity")]
    [InlineData("identity", "identity")]
    [InlineData("deflate, compress", "identity")]   // none we make
    [InlineData("gzip;q=2", "identity")]            // out of range: 0
    [InlineData("gzip;q=abc", "identity")]          // malformed: 0
    [InlineData(" gzip ; q=0.8 , br ; q=0.9 ", "br")]
    [InlineData("gzip;level=1;q=0.3", "gzip")]
    public void TheCodingIsTheAcceptableOneWithTheHighestWeight(string? acceptEncoding, string expected) =>
        Assert.Equal(expected, ContentCodings.Name(ContentCodings.Negotiate(acceptEncoding)));

    [Theory]
    [InlineData("text/plain", true)]
    [InlineData("text/plain; charset=utf-8", true)]
    [InlineData("Application/JSON", true)]
    [InlineData("image/svg+xml", true)]
    [InlineData("image/png", false)]
    [InlineData("application/zip", false)]
    [InlineData("application/octet-stream", false)]
    [InlineData("text/event-stream", false)]
    [InlineData(null, false)]
    public void OnlyTheListedTypesAreCompressible(string? contentType, bool expected) =>
        Assert.Equal(expected, new ResponseCompressionOptions().IsCompressible(contentType));

    [Fact]
    public void AFamilyEntryCoversItsTypesButNeverTheEventStream()
    {
        var options = new ResponseCompressionOptions();
        options.MimeTypes.Add("text/*");
        Assert.True(options.IsCompressible("text/csv"));
        Assert.False(options.IsCompressible("text/event-stream"));
        Assert.Throws<ArgumentOutOfRangeException>(() => options.BrotliQuality = 12);
    }
}
