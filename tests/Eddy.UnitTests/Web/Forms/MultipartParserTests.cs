using System.Text;
using CsCheck;
using Eddy.Fuzz;

namespace Eddy.UnitTests.Web.Forms;

/// <summary>The sans-I/O multipart parser: every malformed class with its answer, and random splits of valid and broken bodies.</summary>
public sealed class MultipartParserTests
{
    private const string B = MultipartTarget.Boundary;

    private static string Parse(string body, int maxParts = 8, int maxHeaderBytes = 256) =>
        MultipartTarget.Transcript(Encoding.Latin1.GetBytes(body), B, [int.MaxValue], maxParts, maxHeaderBytes);

    private static string Field(string name, string data) => $"--{B}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{data}\r\n";

    [Fact]
    public void FieldsAndFilesWithPreambleEpilogueAndPadding()
    {
        string body = "preamble, ignored\r\n"
            + $"--{B} \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nfirst\r\n"
            + $"--{B}\r\ncontent-disposition: FORM-DATA; filename=\"x \\\"y\\\".txt\"; name=b\r\nContent-Type: text/plain\r\nX-Other: ignored\r\n\r\nline1\r\nline2\r\n\r\n"
            + $"--{B}\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n"
            + $"--{B}--  \r\nepilogue, ignored";
        Assert.Equal(
            "part name=\"a\" file=null type=null data=\"first\"\n"
            + "part name=\"b\" file=\"x \\x22y\\x22.txt\" type=\"text/plain\" data=\"line1\\x0D\\x0Aline2\\x0D\\x0A\"\n"
            + "part name=\"empty\" file=null type=null data=\"\"\n"
            + "end\n",
            Parse(body));
    }

    [Fact]
    public void DataMayHoldAlmostTheDelimiter()
    {
        string data = $"--{B}x is not at a line start; \r\n-{B} \r\n--{B[..2]} \r\n\r\n--";
        Assert.Equal($"part name=\"f\" file=null type=null data=\"{data.Replace("\r", "\\x0D").Replace("\n", "\\x0A")}\"\nend\n", Parse(Field("f", data) + $"--{B}--"));
    }

    [Theory]
    [InlineData("", "400 Invalid form data: the multipart body has no boundary line.")]
    [InlineData("no boundary here at all", "400 Invalid form data: the multipart body has no boundary line.")]
    [InlineData("--" + B + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunfinished", "400 Invalid form data: the multipart body ended before its final boundary (--boundary--).")]
    [InlineData("--" + B + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--" + B + "\r\n", "400 Invalid form data: the multipart body ended before its final boundary (--boundary--).")]
    [InlineData("--" + B + "\r\nContent-Disposition: form-data; name=\"a\"\r\n", "400 Invalid form data: the multipart body ended before its final boundary (--boundary--).")]
    [InlineData("--" + B + "x\r\n", "400 Invalid form data: a boundary line goes on after the boundary.")]
    [InlineData("--" + B + " x\r\n", "400 Invalid form data: a boundary line goes on after the boundary.")]
    [InlineData("--" + B + "\rX", "400 Invalid form data: a boundary line ends in CR without LF.")]
    [InlineData("--" + B + "\nContent-Disposition: form-data; name=a\n\nx\n--" + B + "--", "400 Invalid form data: a boundary line goes on after the boundary.")]
    [InlineData("--" + B + "\r\n\r\nno headers\r\n--" + B + "--", "400 Invalid form data: a part has no Content-Disposition header.")]
    [InlineData("--" + B + "\r\nContent-Type: text/plain\r\n\r\nx\r\n--" + B + "--", "400 Invalid form data: a part has no Content-Disposition header.")]
    [InlineData("--" + B + "\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--" + B + "--", "400 Invalid form data: a part's Content-Disposition is not form-data.")]
    [InlineData("--" + B + "\r\nContent-Disposition: form-data; filename=a\r\n\r\nx\r\n--" + B + "--", "400 Invalid form data: a part's Content-Disposition has no name.")]
    [InlineData("--" + B + "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--" + B + "--", "400 Invalid form data: a quoted Content-Disposition parameter has no closing quote.")]
    [InlineData("--" + B + "\r\nContent-Disposition: form-data; name\r\n\r\nx\r\n--" + B + "--", "400 Invalid form data: a Content-Disposition parameter has no value.")]
    [InlineData("--" + B + "\r\nContent-Disposition: form-data; name=\"a\" x\r\n\r\nx\r\n--" + B + "--", "400 Invalid form data: a Content-Disposition parameter is followed by something other than ';'.")]
    [InlineData("--" + B + "\r\nContent-Disposition: form-data; name=a b\r\n\r\nx\r\n--" + B + "--", "400 Invalid form data: an unquoted Content-Disposition parameter holds a quote or whitespace.")]
    [InlineData("--" + B + "\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n\r\nx\r\n--" + B + "--", "400 Invalid form data: a part has two Content-Disposition headers.")]
    [InlineData("--" + B + "\r\nno colon\r\n\r\nx\r\n--" + B + "--", "400 Invalid form data: a part header line has no name and colon.")]
    [InlineData("--" + B + "\r\nContent-Disposition: form-data; name=a\r\nX-Folded: a\r\n b\r\n\r\nx\r\n--" + B + "--", "400 Invalid form data: a part header is folded (obsolete line folding is not accepted).")]
    [InlineData("--" + B + "\r\nContent-Disposition : form-data; name=a\r\n\r\nx\r\n--" + B + "--", "400 Invalid form data: a part header name holds whitespace.")]
    [InlineData("--" + B + "\r\nContent-Disposition: form-data; name=\"a\0\"\r\n\r\nx\r\n--" + B + "--", "400 Invalid form data: a part header holds a control character.")]
    [InlineData("--" + B + "\r\nContent-Disposition: form-data; name=\"a\nb\"\r\n\r\nx\r\n--" + B + "--", "400 Invalid form data: a part header holds a control character.")]
    public void MalformedBodiesAreRefusedWithTheirReason(string body, string reject)
    {
        Assert.EndsWith("reject " + reject + "\n", Parse(body));
    }

    [Fact]
    public void LimitsOnPartsAndHeaderBlocksAre413()
    {
        string three = Field("a", "1") + Field("b", "2") + Field("c", "3") + $"--{B}--";
        Assert.EndsWith("end\n", Parse(three, maxParts: 3));
        Assert.EndsWith("reject 413 Form data too large: more than 2 parts.\n", Parse(three, maxParts: 2));

        string header = $"--{B}\r\nContent-Disposition: form-data; name=\"{new string('n', 40)}\"\r\n\r\nx\r\n--{B}--";
        int block = header.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4 - (B.Length + 4);
        Assert.EndsWith("end\n", Parse(header, maxHeaderBytes: block));
        Assert.EndsWith($"reject 413 Form data too large: a part's header block is over {block - 1} bytes.\n", Parse(header, maxHeaderBytes: block - 1));
        // Unfinished, the header block is refused as soon as it is too long, not at the end of the body.
        Assert.EndsWith("reject 413 Form data too large: a part's header block is over 256 bytes.\n", Parse($"--{B}\r\nX: " + new string('x', 1000)));
    }

    /// <summary>Pieces of text that are, or nearly are, the delimiter: data made of them tests every partial match.</summary>
    private static readonly Gen<string> s_tricky = Gen.OneOf(
        Gen.Const("\r"), Gen.Const("\n"), Gen.Const("-"), Gen.Const("--"), Gen.Const("\r\n"), Gen.Const("\r\n-"), Gen.Const("\r\n--"),
        Gen.Int[0, B.Length - 1].Select(k => "\r\n--" + B[..k]), Gen.Const("--" + B), Gen.Const(B),
        Gen.Char['\0', '\xff'].Array[0, 20].Select(c => new string(c)));

    private static readonly Gen<string> s_data = s_tricky.Array[0, 12].Select(string.Concat).Where(d => !d.Contains("\r\n--" + B, StringComparison.Ordinal));

    private static readonly Gen<(string Name, string? File, string? Type, string Data)> s_part =
        from name in Gen.String[Gen.Char.AlphaNumeric, 1, 8]
        from file in Gen.Frequency((1, Gen.Const("").Select(_ => (string?)null)), (1, Gen.String[Gen.Char.AlphaNumeric, 1, 8].Select(f => (string?)(f + ".bin"))))
        from type in Gen.OneOf(Gen.Const("").Select(_ => (string?)null), Gen.Const((string?)"application/octet-stream"), Gen.Const((string?)"text/plain; charset=utf-8"))
        from data in s_data
        select (name, file, type, data);

    private static readonly Gen<(string Body, string Expected)> s_form =
        from preamble in Gen.OneOf(Gen.Const(""), Gen.Const("preamble"), Gen.Const("\r\n"), Gen.Const("\r\n--" + B[..2]))
        from parts in s_part.Array[0, 5]
        from padding in Gen.OneOf(Gen.Const(""), Gen.Const(" "), Gen.Const("\t \t"))
        from epilogue in Gen.OneOf(Gen.Const(""), Gen.Const("\r\n"), Gen.Const("\r\nthe end\r\n--" + B + "--"))
        select Build(preamble, parts, padding, epilogue);

    private static (string Body, string Expected) Build(string preamble, (string Name, string? File, string? Type, string Data)[] parts, string padding, string epilogue)
    {
        var body = new StringBuilder(preamble.Length == 0 ? "" : preamble + "\r\n");
        var expected = new StringBuilder();
        foreach ((string name, string? file, string? type, string data) in parts)
        {
            body.Append($"--{B}{padding}\r\nContent-Disposition: form-data; name=\"{name}\"");
            if (file is not null)
            {
                body.Append($"; filename=\"{file}\"");
            }
            body.Append("\r\n");
            if (type is not null)
            {
                body.Append($"Content-Type: {type}\r\n");
            }
            body.Append($"\r\n{data}\r\n");
            expected.Append(Parse(Field("n", data) + $"--{B}--").Split('\n')[0].Replace("name=\"n\" file=null type=null", $"name=\"{name}\" file={Quote(file)} type={Quote(type)}")).Append('\n');
        }
        body.Append($"--{B}--{padding}{epilogue}");
        return (body.ToString(), expected.Append("end\n").ToString());
    }

    private static string Quote(string? s) => s is null ? "null" : "\"" + s + "\"";

    [Fact]
    public void AValidFormParsesTheSameHoweverItIsSplit()
    {
        Gen.Select(s_form, Gen.Int[1, 40].Array[1, 6]).Sample((form, sizes) =>
        {
            byte[] body = Encoding.Latin1.GetBytes(form.Body);
            string whole = MultipartTarget.Transcript(body, B, [int.MaxValue], 8, 256);
            if (form.Expected.Length > 0)
            {
                Assert.Equal(form.Expected, whole);
            }
            Assert.Equal(whole, MultipartTarget.Transcript(body, B, sizes, 8, 256));
            Assert.Equal(whole, MultipartTarget.Transcript(body, B, [1], 8, 256));
        }, iter: 2000);
    }

    [Fact]
    public void ABrokenFormGivesTheSameVerdictHoweverItIsSplit()
    {
        Gen.Select(s_form, Gen.Int[0, 10_000], Gen.Byte, Gen.Int[1, 40].Array[1, 6], Gen.Int[0, 2]).Sample((form, at, value, sizes, how) =>
        {
            byte[] body = Encoding.Latin1.GetBytes(form.Body);
            if (body.Length > 0)
            {
                int i = at % body.Length;
                body = how switch
                {
                    0 => [.. body[..i], value, .. body[(i + 1)..]], // one byte changed
                    1 => body[..i],                                   // cut short
                    _ => [.. body[..i], .. body[(i + 1)..]],          // one byte lost
                };
            }
            string whole = MultipartTarget.Transcript(body, B, [int.MaxValue], 3, 96);
            Assert.Equal(whole, MultipartTarget.Transcript(body, B, sizes, 3, 96));
            Assert.Equal(whole, MultipartTarget.Transcript(body, B, [1], 3, 96));
        }, iter: 2000);
    }
}
