using System.Text;
using System.Text.Unicode;
using CsCheck;
using Eddy.WebSockets.Internal;
using static Eddy.UnitTests.WebSockets.WebSocketCodecSupport;

namespace Eddy.UnitTests.WebSockets;

/// <summary>
/// Autobahn|Testsuite section 6, UTF-8 handling (§8.1): Markus Kuhn's UTF-8 decoder test cases in text messages,
/// whole, fragmented at every byte and chopped into reads; invalid → 1007, as soon as the first impossible byte is in.
/// </summary>
public sealed class Autobahn6Utf8Tests
{
    /// <summary>Kuhn §1–§2.3 and the non-characters of §5.3: valid.</summary>
    public static TheoryData<string> ValidCases => new()
    {
        "CEBAE1BDB9CF83CEBCCEB5",   // κόσμε
        "00", "C280", "E0A080", "F0908080",         // the first sequence of each length
        "7F", "DFBF", "EFBFBF", "F48FBFBF",         // the last of each (U+10FFFF)
        "ED9FBF", "EE8080", "EFBFBD",               // U+D7FF, U+E000, U+FFFD
        "EFBFBE", "F09F8FBFF4808080",               // U+FFFE; U+1F3FF, U+100000
        "48656C6C6F2DC2B540C39FC3B6C3A4C3BCC3A0C3A12D5554462D382121", // Autobahn 6.2: Hello-µ@ßöäüàá-UTF-8!!
    };

    /// <summary>Kuhn §3–§5.2: invalid (5- and 6-byte forms, continuation bytes alone, lonely and cut starts, FE/FF, overlongs, surrogates).</summary>
    public static TheoryData<string> InvalidCases => new()
    {
        "F888808080", "FC8480808080", "F4908080",   // beyond U+10FFFF
        "80", "BF", "80BF", "80BF80BF",             // unexpected continuation bytes
        "C020", "E020", "F020", "E08020",           // lonely start characters
        "C0", "E080", "F08080", "DF", "EFBF", "F7BFBF", // sequences with their last byte missing
        "FE", "FF", "FEFEFFFF",                     // impossible bytes
        "C0AF", "E080AF", "F08080AF", "C1BF", "E09FBF", "F08FBFBF", "C080", "E08080", // overlong
        "EDA080", "EDADBF", "EDAE80", "EDAFBF", "EDB080", "EDBE80", "EDBFBF", "EDA080EDB080", // surrogates
        "CEBAE1BDB9CF83CEBCCEB5EDA080656469746564", // Autobahn 6.3: κόσμε, a surrogate, "edited"
    };

    [Theory]
    [MemberData(nameof(ValidCases))]
    public void ValidUtf8IsAcceptedWholeAndFragmentedAtEveryByte(string hex)
    {
        byte[] text = Convert.FromHexString(hex);
        string expected = "text:" + Encoding.UTF8.GetString(text);
        Assert.Equal([expected], DecodeEverySplit(Frame(0x1, text)));
        Assert.Equal([expected], DecodeEverySplit(Fragments(text)));
    }

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void InvalidUtf8FailsWith1007WholeAndFragmentedAtEveryByte(string hex)
    {
        byte[] text = Convert.FromHexString(hex);
        Assert.Equal(["error:1007"], DecodeEverySplit(Frame(0x1, text)));
        Assert.Equal(["error:1007"], DecodeEverySplit(Fragments(text)));
    }

    [Theory]
    [InlineData("CEBAE1BDB9CF83CEBCCEB5", "F490", "808065646974656")]  // Autobahn 6.4.1/6.4.3: F4 90 is already impossible
    [InlineData("CEBAE1BDB9CF83CEBCCEB5", "EDA0", "8065646974656")]    // a surrogate's second byte
    [InlineData("CEBAE1BDB9CF83CEBC", "C0", "AF")]                     // C0 starts only overlongs
    [InlineData("", "80", "")]
    public void AMessageFailsAtItsFirstImpossibleByteNotAtItsEnd(string validPrefix, string impossible, string rest)
    {
        // Only the frame's bytes up to the impossible one are given: the decoder must not wait for the rest.
        byte[] payload = Convert.FromHexString(validPrefix + impossible + (rest.Length % 2 == 0 ? rest : rest + "0"));
        byte[] frame = Frame(0x1, payload, fin: false);
        int headerLength = frame.Length - payload.Length;
        byte[] upToImpossible = frame[..(headerLength + (validPrefix.Length + impossible.Length) / 2)];
        Assert.Equal(["error:1007"], Decode(upToImpossible, [1], destinationSize: 1));
        Assert.Equal(["error:1007"], Decode(upToImpossible));
    }

    [Fact]
    public void AValidMessageMayCutACharacterBetweenFragments()
    {
        byte[] text = "κόσμε 👋"u8.ToArray();
        Assert.Equal(["text:κόσμε 👋"], DecodeEverySplit(Fragments(text)));
    }

    [Fact]
    public void BinaryMessagesAreNotChecked()
    {
        Assert.Equal(["binary:FFFE80"], DecodeEverySplit(Frame(0x2, [0xFF, 0xFE, 0x80])));
    }

    [Fact]
    public void TheIncrementalValidatorAgreesWithTheBclOnRandomBytesSplitAnywhere()
    {
        Gen<byte[]> text = Gen.Frequency(
            (3, Gen.String.Select(s => Encoding.UTF8.GetBytes(s))),
            (1, Gen.Byte.Array[0, 40]),
            (2, Gen.Select(Gen.String, Gen.Byte.Array[1, 3], Gen.String, (a, b, c) => Encoding.UTF8.GetBytes(a).Concat(b).Concat(Encoding.UTF8.GetBytes(c)).ToArray())));
        Gen.Select(text, Gen.Int[1, 8].Array[1, 10]).Sample((bytes, pieces) =>
        {
            var validator = new Utf8Validator();
            bool valid = true;
            for (int offset = 0, i = 0; offset < bytes.Length && valid; i++)
            {
                int n = Math.Min(pieces[i % pieces.Length], bytes.Length - offset);
                valid = validator.TryAppend(bytes.AsSpan(offset, n));
                offset += n;
            }
            valid &= validator.IsComplete;
            return valid == Utf8.IsValid(bytes);
        }, iter: 20_000);
    }

    /// <summary>A text message of one frame per byte (a first frame, continuations, a final one).</summary>
    private static byte[] Fragments(byte[] text)
    {
        if (text.Length == 0)
        {
            return Frame(0x1, []);
        }
        return Concat(text.Select((b, i) => Frame(i == 0 ? 0x1 : 0x0, [b], fin: i == text.Length - 1)).ToArray());
    }
}
