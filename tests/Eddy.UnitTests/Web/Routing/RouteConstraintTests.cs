using Eddy.Web.Routing;

namespace Eddy.UnitTests.Web.Routing;

/// <summary>Each inline constraint, through the router: a value it rejects leaves the route unmatched (404).</summary>
public sealed class RouteConstraintTests
{
    private static bool Accepts(string constraint, string value)
    {
        var router = new Router<int>();
        router.Add("GET", $"/x/{{v:{constraint}}}", 1);
        return router.Match("GET", "/x/" + value).IsFound;
    }

    [Theory]
    [InlineData("0")]
    [InlineData("42")]
    [InlineData("-7")]
    [InlineData("+7")]
    [InlineData("007")]
    [InlineData("2147483647")]
    [InlineData("-2147483648")]
    public void IntAcceptsDecimalIntegersInRange(string value) => Assert.True(Accepts("int", value));

    [Theory]
    [InlineData("2147483648")]
    [InlineData("-2147483649")]
    [InlineData("99999999999999999999")]
    [InlineData("4.2")]
    [InlineData("1e3")]
    [InlineData("0x10")]
    [InlineData("abc")]
    [InlineData("-")]
    [InlineData("1,000")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("١٢")]
    public void IntRejectsOverflowAndAnythingButDigits(string value) => Assert.False(Accepts("int", value));

    [Theory]
    [InlineData("9223372036854775807", true)]
    [InlineData("-9223372036854775808", true)]
    [InlineData("2147483648", true)]
    [InlineData("9223372036854775808", false)]
    [InlineData("12a", false)]
    public void LongAcceptsSixtyFourBitIntegers(string value, bool accepted) => Assert.Equal(accepted, Accepts("long", value));

    [Theory]
    [InlineData("6f9619ff-8b86-d011-b42d-00c04fc964ff")]
    [InlineData("6F9619FF-8B86-D011-B42D-00C04FC964FF")]
    [InlineData("6f9619ff8b86d011b42d00c04fc964ff")]
    [InlineData("{6f9619ff-8b86-d011-b42d-00c04fc964ff}")]
    [InlineData("(6f9619ff-8b86-d011-b42d-00c04fc964ff)")]
    [InlineData("00000000-0000-0000-0000-000000000000")]
    public void GuidAcceptsTheFormatsDNBAndP(string value) => Assert.True(Accepts("guid", value));

    [Theory]
    [InlineData("6f9619ff-8b86-d011-b42d-00c04fc964f")]
    [InlineData("6f9619ff-8b86-d011-b42d-00c04fc964fg")]
    [InlineData("6f9619ff8b86d011b42d00c04fc964f")]
    [InlineData("{6f9619ff-8b86-d011-b42d-00c04fc964ff)")]
    [InlineData("6f9619ff-8b86d011-b42d-00c04fc964ff-")]
    [InlineData("{0x6f9619ff,0x8b86,0xd011,{0xb4,0x2d,0x00,0xc0,0x4f,0xc9,0x64,0xff}}")]
    [InlineData(" 6f9619ff-8b86-d011-b42d-00c04fc964ff")]
    [InlineData("42")]
    public void GuidRejectsEverythingElse(string value) => Assert.False(Accepts("guid", value));

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", true)]
    [InlineData("TRUE", true)]
    [InlineData("False", true)]
    [InlineData("1", false)]
    [InlineData("0", false)]
    [InlineData("yes", false)]
    [InlineData("truee", false)]
    [InlineData(" true", false)]
    public void BoolAcceptsTrueAndFalseInAnyCase(string value, bool accepted) => Assert.Equal(accepted, Accepts("bool", value));

    [Theory]
    [InlineData("abc", true)]
    [InlineData("ABCxyz", true)]
    [InlineData("a1", false)]
    [InlineData("a-b", false)]
    [InlineData("café", false)]
    [InlineData("_", false)]
    public void AlphaAcceptsAsciiLettersOnly(string value, bool accepted) => Assert.Equal(accepted, Accepts("alpha", value));

    [Theory]
    [InlineData("minlength(3)", "abc", true)]
    [InlineData("minlength(3)", "abcdef", true)]
    [InlineData("minlength(3)", "ab", false)]
    [InlineData("maxlength(3)", "abc", true)]
    [InlineData("maxlength(3)", "a", true)]
    [InlineData("maxlength(3)", "abcd", false)]
    [InlineData("length(2,5)", "ab", true)]
    [InlineData("length(2,5)", "abcde", true)]
    [InlineData("length(2,5)", "a", false)]
    [InlineData("length(2,5)", "abcdef", false)]
    [InlineData("length(4)", "abcd", true)]
    [InlineData("length(4)", "abc", false)]
    [InlineData("length(4)", "abcde", false)]
    [InlineData("MinLength(2)", "ab", true)]
    public void LengthConstraintsCountCharacters(string constraint, string value, bool accepted) =>
        Assert.Equal(accepted, Accepts(constraint, value));

    [Theory]
    [InlineData("min(1)", "1", true)]
    [InlineData("min(1)", "1000000000000", true)]
    [InlineData("min(1)", "0", false)]
    [InlineData("min(1)", "-5", false)]
    [InlineData("min(1)", "abc", false)]
    [InlineData("min(-10)", "-10", true)]
    [InlineData("max(9)", "9", true)]
    [InlineData("max(9)", "-100", true)]
    [InlineData("max(9)", "10", false)]
    [InlineData("max(9)", "9x", false)]
    [InlineData("range(1,9)", "1", true)]
    [InlineData("range(1,9)", "9", true)]
    [InlineData("range(1,9)", "0", false)]
    [InlineData("range(1,9)", "10", false)]
    [InlineData("range(1,9)", "99999999999999999999", false)]
    [InlineData("range(-5,5)", "-5", true)]
    public void NumericBoundsParseTheValueAsALong(string constraint, string value, bool accepted) =>
        Assert.Equal(accepted, Accepts(constraint, value));

    [Theory]
    [InlineData("5", true)]
    [InlineData("0", false)]
    [InlineData("11", false)]
    [InlineData("x", false)]
    public void ChainedConstraintsMustAllAccept(string value, bool accepted) =>
        Assert.Equal(accepted, Accepts("int:min(1):max(10)", value));

    [Fact]
    public void AConstrainedOptionalParameterRejectsABadValueButMayBeOmitted()
    {
        var router = new Router<int>();
        router.Add("GET", "/p/{n:range(1,3)?}", 1);

        Assert.True(router.Match("GET", "/p").IsFound);
        Assert.True(router.Match("GET", "/p/2").IsFound);
        Assert.False(router.Match("GET", "/p/4").IsFound);
    }
}
