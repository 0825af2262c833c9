using System.Text;
using CsCheck;
using Eddy.Http;
using Eddy.Http.Parsing;

namespace Eddy.UnitTests.Http.Parsing;

/// <summary>
/// Property tests: random valid request streams, split at random points, parse to what was generated;
/// random and mutated input is only ever rejected with <see cref="HttpRejectException"/>.
/// </summary>
public sealed partial class HttpParserTests
{
    private const string TokenChars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const string PathChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/%";
    private const string QueryChars = PathChars + "?{}|^[]\"<>\\`";

    private static readonly string s_valueChars = BuildValueChars();

    private static string BuildValueChars()
    {
        var chars = new StringBuilder(" \t");
        for (int c = 0x21; c <= 0x7E; c++)
        {
            chars.Append((char)c);
        }
        for (int c = 0x80; c <= 0xFF; c += 7)
        {
            chars.Append((char)c);
        }
        return chars.ToString();
    }

    private static Gen<string> Chars(string alphabet, int min, int max) =>
        Gen.Char[alphabet].Array[min, max].Select(chars => new string(chars));

    private static readonly Gen<string> s_genMethod = Gen.Frequency(
        (6, Gen.OneOf("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "TRACE", "OPTIONS")),
        (1, Chars(TokenChars, 1, 10)));

    private static readonly Gen<string> s_genTarget = Gen.Frequency(
        (8, Gen.Select(Chars(PathChars, 0, 30), Gen.Bool, Chars(QueryChars, 0, 20), (path, hasQuery, query) => "/" + path + (hasQuery ? "?" + query : ""))),
        (1, Chars("abcdefghijklmnopqrstuvwxyz0123456789-.", 1, 15).Select(host => "http://" + host + "/x")));

    private static readonly Gen<string> s_genPadding = Gen.OneOf("", "", " ", "\t", "  ", " \t ");

    private static readonly Gen<GeneratedField> s_genField = Gen.Select(
        Chars(TokenChars, 1, 12), Chars(s_valueChars, 0, 30), s_genPadding, s_genPadding,
        (name, value, before, after) => new GeneratedField("X-" + name, value, before, after));

    private static readonly Gen<string> s_genExtension = Gen.OneOf("", "", ";a", ";name=value", " ; q=\"x; y\"", ";a;b=c", "\t;x=\"\u00e9\"");

    private static readonly Gen<GeneratedRequest> s_genRequest =
        from method in s_genMethod
        from target in s_genTarget
        from http10 in Gen.Int[0, 5].Select(i => i == 0)
        from fields in s_genField.Array[0, 8]
        from bodyKind in Gen.Int[0, 2].Select(i => http10 && i == 2 ? HttpBodyKind.ContentLength : (HttpBodyKind)i)
        from chunkSizes in Gen.Int[1, 70].Array[0, 6]
        from body in bodyKind switch
        {
            HttpBodyKind.Chunked => Gen.Byte.Array[chunkSizes.Sum()],
            HttpBodyKind.ContentLength => Gen.Byte.Array[0, 200],
            _ => Gen.Const(Array.Empty<byte>()),
        }
        from extensions in s_genExtension.Array[chunkSizes.Length + 1]
        from trailers in s_genField.Array[0, 3]
        from upperHex in Gen.Bool
        from emptyLineBefore in Gen.Int[0, 8].Select(i => i == 0)
        select new GeneratedRequest(method, target, http10 ? HttpProtocolVersion.Http10 : HttpProtocolVersion.Http11, fields,
            bodyKind, body, chunkSizes, extensions, bodyKind == HttpBodyKind.Chunked ? trailers : [], upperHex, emptyLineBefore);

    [Fact]
    public void RandomValidRequestStreamsSplitAtRandomPointsParseToTheGeneratedRequests()
    {
        Gen.Select(s_genRequest.Array[1, 5], Gen.Int[1, 90].Array[1, 30]).Sample((requests, segmentSizes) =>
        {
            byte[] stream = requests.SelectMany(r => r.Serialize()).ToArray();
            var reader = new RequestStreamReader();
            for (int offset = 0, i = 0; offset < stream.Length; i++)
            {
                int size = Math.Min(segmentSizes[i % segmentSizes.Length], stream.Length - offset);
                reader.DataReceived(stream.AsSpan(offset, size));
                offset += size;
            }

            Assert.True(reader.IsIdle, "bytes left over");
            Assert.Equal(string.Join("----\n", requests.Select(r => r.Expected())), string.Join("----\n", reader.Completed.Select(GeneratedRequest.Describe)));
        }, iter: 300, threads: 1);
    }

    [Fact]
    public void RandomBytesAreOnlyEverRejectedWithHttpRejectException()
    {
        Gen.Select(Gen.Byte.Array[0, 300], Gen.Int[1, 40]).Sample((bytes, segment) => FeedExpectingOnlyRejections(bytes, segment),
            iter: 2000, threads: 1);
    }

    private static readonly Gen<string> s_genSoup = Gen.OneOf(
        "GET ", "POST ", "CONNECT ", "OPTIONS ", "/", "*", " ", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "\r\n", "\r\n\r\n", "\n", "\r",
        "Host: a", "Host:", "Content-Length: ", "Transfer-Encoding: ", "chunked", "gzip", ", ", "5", "0", "ff", "-1", ":", ";x=y",
        "hello", "\u0000", "\t", "\u007f", "\u00ff", "Connection: close", "x:443", "http://a/", "?q", "#");

    [Fact]
    public void RandomHttpLikeInputIsOnlyEverRejectedWithHttpRejectException()
    {
        Gen.Select(s_genSoup.Array[0, 40], Gen.Int[1, 40]).Sample((parts, segment) =>
            FeedExpectingOnlyRejections(ParsedRequest.Bytes(string.Concat(parts)), segment), iter: 3000, threads: 1);
    }

    [Fact]
    public void MutatedValidRequestsAreOnlyEverRejectedWithHttpRejectException()
    {
        Gen.Select(s_genRequest.Array[1, 3], Gen.Int[0, 100_000].Array[1, 4], Gen.Byte.Array[4], Gen.Int[1, 40]).Sample((requests, positions, values, segment) =>
        {
            byte[] stream = requests.SelectMany(r => r.Serialize()).ToArray();
            for (int i = 0; i < positions.Length; i++)
            {
                stream[positions[i] % stream.Length] = values[i];
            }
            FeedExpectingOnlyRejections(stream, segment);
        }, iter: 1000, threads: 1);
    }

    /// <summary>Feeds the bytes in segments; any exception but a rejection (or the reader's no-progress guard) fails.</summary>
    private static void FeedExpectingOnlyRejections(byte[] bytes, int segment)
    {
        var reader = new RequestStreamReader(new HttpParserLimits { MaxRequestLineLength = 64, MaxHeaderBytes = 128, MaxHeaderCount = 5, MaxChunkExtensionLength = 16 });
        try
        {
            for (int offset = 0; offset < bytes.Length; offset += segment)
            {
                reader.DataReceived(bytes.AsSpan(offset, Math.Min(segment, bytes.Length - offset)));
            }
        }
        catch (HttpRejectException e)
        {
            Assert.InRange(e.StatusCode, 400, 505);
            Assert.True(e.Message.Length < 200, e.Message);
            Assert.DoesNotContain('\n', e.Message);
            Assert.DoesNotContain('\r', e.Message);
        }
    }

    internal sealed record GeneratedField(string Name, string Value, string Before, string After)
    {
        public string Serialize() => $"{Name}:{Before}{Value}{After}\r\n";

        public string ExpectedValue => (Before + Value + After).Trim(' ', '\t');
    }

    internal sealed record GeneratedRequest(
        string Method, string Target, HttpProtocolVersion Version, GeneratedField[] Fields, HttpBodyKind BodyKind, byte[] Body,
        int[] ChunkSizes, string[] Extensions, GeneratedField[] Trailers, bool UpperHex, bool EmptyLineBefore)
    {
        public byte[] Serialize()
        {
            var text = new StringBuilder();
            if (EmptyLineBefore)
            {
                text.Append("\r\n");
            }
            text.Append($"{Method} {Target} {(Version == HttpProtocolVersion.Http11 ? "HTTP/1.1" : "HTTP/1.0")}\r\n");
            foreach (string line in HeaderLines())
            {
                text.Append(line);
            }
            text.Append("\r\n");
            switch (BodyKind)
            {
                case HttpBodyKind.ContentLength:
                    text.Append(ParsedRequest.Latin1(Body));
                    break;
                case HttpBodyKind.Chunked:
                    int offset = 0;
                    for (int i = 0; i < ChunkSizes.Length; i++)
                    {
                        int size = ChunkSizes[i];
                        // Lowercase, uppercase and leading zeros are all valid hex.
                        text.Append(size.ToString(UpperHex ? "X" : (i % 2 == 0 ? "x" : "x3"))).Append(Extensions[i]).Append("\r\n");
                        text.Append(ParsedRequest.Latin1(Body.AsSpan(offset, size))).Append("\r\n");
                        offset += size;
                    }
                    text.Append('0').Append(Extensions[^1]).Append("\r\n");
                    foreach (GeneratedField trailer in Trailers)
                    {
                        text.Append(trailer.Serialize());
                    }
                    text.Append("\r\n");
                    break;
            }
            return ParsedRequest.Bytes(text.ToString());
        }

        private IEnumerable<string> HeaderLines()
        {
            if (Version == HttpProtocolVersion.Http11)
            {
                yield return "Host: example.com\r\n";
            }
            foreach (GeneratedField field in Fields)
            {
                yield return field.Serialize();
            }
            if (BodyKind == HttpBodyKind.ContentLength)
            {
                yield return $"Content-Length: {Body.Length}\r\n";
            }
            else if (BodyKind == HttpBodyKind.Chunked)
            {
                yield return "Transfer-Encoding: chunked\r\n";
            }
        }

        public string Expected()
        {
            var text = new StringBuilder();
            text.Append($"{Method} {Target} {Version} {BodyKind}\n");
            if (Version == HttpProtocolVersion.Http11)
            {
                text.Append("Host: [example.com]\n");
            }
            foreach (GeneratedField field in Fields)
            {
                text.Append($"{field.Name}: [{field.ExpectedValue}]\n");
            }
            if (BodyKind == HttpBodyKind.ContentLength)
            {
                text.Append($"Content-Length: [{Body.Length}]\n");
            }
            else if (BodyKind == HttpBodyKind.Chunked)
            {
                text.Append("Transfer-Encoding: [chunked]\n");
            }
            text.Append($"body: [{ParsedRequest.Latin1(Body)}]\n");
            foreach (GeneratedField trailer in Trailers)
            {
                text.Append($"trailer {trailer.Name}: [{trailer.ExpectedValue}]\n");
            }
            return text.ToString();
        }

        public static string Describe(ParsedRequest request)
        {
            var text = new StringBuilder();
            text.Append($"{request.Method} {request.Target} {request.Version} {request.Head.BodyKind}\n");
            foreach ((string name, string value) in request.Headers)
            {
                text.Append($"{name}: [{value}]\n");
            }
            text.Append($"body: [{request.BodyText}]\n");
            foreach ((string name, string value) in request.Trailers)
            {
                text.Append($"trailer {name}: [{value}]\n");
            }
            return text.ToString();
        }
    }
}
