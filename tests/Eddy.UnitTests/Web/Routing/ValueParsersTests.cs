using Eddy.Web.Routing.Internal;

namespace Eddy.UnitTests.Web.Routing;

public sealed class ValueParsersTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("+0", 0L)]
    [InlineData("-0", 0L)]
    [InlineData("00042", 42L)]
    [InlineData("-42", -42L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("922337203685477580", 922337203685477580L)]
    [InlineData("-922337203685477581", -922337203685477581L)]
    public void TryParseLongAcceptsSignedDecimalsUpToTheLimits(string text, long expected)
    {
        Assert.True(ValueParsers.TryParseLong(text, out long value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("+")]
    [InlineData("--1")]
    [InlineData("1-")]
    [InlineData("9223372036854775808")]
    [InlineData("-9223372036854775809")]
    [InlineData("9223372036854775810")]
    [InlineData("99999999999999999999")]
    [InlineData("1.0")]
    [InlineData("1_000")]
    [InlineData("\u0661")]
    public void TryParseLongRejectsEverythingElse(string text)
    {
        Assert.False(ValueParsers.TryParseLong(text, out long value));
        Assert.Equal(0, value);
    }

    [Fact]
    public void TryParseLongAgreesWithTheBclOnRandomNumbers()
    {
        var random = new Random(7);
        for (int i = 0; i < 10_000; i++)
        {
            long number = random.NextInt64(long.MinValue, long.MaxValue) >> random.Next(64);
            string text = number.ToString(System.Globalization.CultureInfo.InvariantCulture);

            Assert.True(ValueParsers.TryParseLong(text, out long parsed));
            Assert.Equal(number, parsed);
        }
    }

    [Theory]
    [InlineData("2147483647", true)]
    [InlineData("-2147483648", true)]
    [InlineData("2147483648", false)]
    [InlineData("-2147483649", false)]
    public void TryParseIntRejectsValuesOutsideInt(string text, bool expected)
    {
        Assert.Equal(expected, ValueParsers.TryParseInt(text, out int value));
        Assert.Equal(expected ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : 0, value);
    }
}
