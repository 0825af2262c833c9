using System.Text;
using CsCheck;
using Eddy.Http.Internal;
using Eddy.Http.Parsing.Internal;

namespace Eddy.UnitTests.Http.Parsing;

/// <summary>The word-at-a-time name compare of the framing fields must agree with a plain case-insensitive compare on every token.</summary>
public sealed class FieldNameTests
{
    private const string TokenChars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private static readonly string[] s_names = ["host", "expect", "upgrade", "connection", "content-length", "transfer-encoding"];

    // A framing name with some bytes re-cased and some replaced by any token byte: equal and unequal cases both come up.
    private static readonly Gen<(string Name, string Candidate)> s_genPair =
        from name in Gen.OneOf(s_names)
        from changes in Gen.Select(Gen.Int[0, name.Length - 1], Gen.Int[0, 2], Gen.Char[TokenChars]).Array[0, 3]
        select (name, Mutate(name, changes));

    private static string Mutate(string name, (int Index, int Kind, char Other)[] changes)
    {
        char[] chars = name.ToCharArray();
        foreach ((int index, int kind, char other) in changes)
        {
            chars[index] = kind switch
            {
                0 => char.ToUpperInvariant(chars[index]),
                1 => char.ToLowerInvariant(chars[index]),
                _ => other,
            };
        }
        return new string(chars);
    }

    [Fact]
    public void ATokenIsAFramingNameExactlyWhenItEqualsItButForLetterCase()
    {
        s_genPair.Sample(pair =>
        {
            byte[] candidate = Encoding.ASCII.GetBytes(pair.Candidate);
            byte[] name = Encoding.ASCII.GetBytes(pair.Name);
            Assert.Equal(System.Text.Ascii.EqualsIgnoreCase(candidate, name), RequestFraming.IsName(candidate, name));
        }, iter: 20_000);
    }

    [Theory]
    [InlineData("HOST", "host", true)]
    [InlineData("hosT", "host", true)]
    [InlineData("hoss", "host", false)]
    [InlineData("Content-Length", "content-length", true)]
    [InlineData("Content_Length", "content-length", false)]
    [InlineData("Content-Lengti", "content-length", false)]
    [InlineData("Xontent-Length", "content-length", false)]
    [InlineData("TRANSFER-ENCODING", "transfer-encoding", true)]
    [InlineData("Transfer-Encodinh", "transfer-encoding", false)]
    [InlineData("Transfer-Fncoding", "transfer-encoding", false)]
    public void FramingNamesCompareCaseInsensitivelyAndNothingElse(string candidate, string name, bool equal) =>
        Assert.Equal(equal, RequestFraming.IsName(Encoding.ASCII.GetBytes(candidate), Encoding.ASCII.GetBytes(name)));
}
