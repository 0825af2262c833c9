using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Eddy.Cli.Serve;

namespace Eddy.FunctionalTests.Http;

/// <summary>The demo's <c>/anything</c> with forms and cookies as curl sends them (<c>-F</c>, <c>--data-urlencode</c>, <c>-b</c>).</summary>
public sealed class FormsDemoTests : IDisposable
{
    private readonly HttpTestServer _server = new(DemoApp.Create(DemoApp.DefaultStaticFolder));
    private readonly string _folder = Directory.CreateTempSubdirectory("eddy-forms-").FullName;

    public void Dispose()
    {
        _server.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private string Url => $"http://{_server.EndPoint}/anything";

    [Fact]
    public async Task MultipartFieldsAndFilesAreListedWithSizeAndSha256()
    {
        byte[] big = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        string bigPath = Path.Combine(_folder, "big.bin");
        await File.WriteAllBytesAsync(bigPath, big);
        string smallPath = Path.Combine(_folder, "note.txt");
        await File.WriteAllTextAsync(smallPath, "hello\r\n--not a boundary\r\n");
        string emptyPath = Path.Combine(_folder, "empty.dat");
        await File.WriteAllBytesAsync(emptyPath, []);

        using JsonDocument answer = JsonDocument.Parse(await CurlAsync(
            "-sS", "-F", "title=caf\u00e9 au lait", "-F", "title=second", "-F", $"file=@{bigPath}", "-F", $"note=@{smallPath};type=text/plain",
            "-F", $"none=@{emptyPath}", Url));
        JsonElement root = answer.RootElement;
        Assert.Equal("", root.GetProperty("data").GetString());
        Assert.Equal(["caf\u00e9 au lait", "second"], root.GetProperty("form").GetProperty("title").EnumerateArray().Select(v => v.GetString()));
        JsonElement[] files = [.. root.GetProperty("files").EnumerateArray()];
        Assert.Equal(3, files.Length);
        AssertFile(files[0], "file", "big.bin", big);
        AssertFile(files[1], "note", "note.txt", File.ReadAllBytes(smallPath));
        Assert.Equal("text/plain", files[1].GetProperty("content_type").GetString());
        AssertFile(files[2], "none", "empty.dat", []);
    }

    private static void AssertFile(JsonElement file, string name, string fileName, byte[] content)
    {
        Assert.Equal(name, file.GetProperty("name").GetString());
        Assert.Equal(fileName, file.GetProperty("filename").GetString());
        Assert.Equal(content.Length, file.GetProperty("size").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), file.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task UrlEncodedFieldsAreDecoded()
    {
        using JsonDocument answer = JsonDocument.Parse(await CurlAsync(
            "-sS", "--data-urlencode", "q=a b&c=d", "--data-urlencode", "name=J\u00fcrgen", "--data", "flag&empty=", Url));
        JsonElement form = answer.RootElement.GetProperty("form");
        Assert.Equal("a b&c=d", form.GetProperty("q").GetString());
        Assert.Equal("J\u00fcrgen", form.GetProperty("name").GetString());
        Assert.Equal("", form.GetProperty("flag").GetString());
        Assert.Equal("", form.GetProperty("empty").GetString());
        Assert.Equal(0, answer.RootElement.GetProperty("files").GetArrayLength());
    }

    [Fact]
    public async Task CookiesAreEchoedAndMalformedOnesSkipped()
    {
        using JsonDocument answer = JsonDocument.Parse(await CurlAsync("-sS", "-b", "session=abc123; theme=\"dark\"; broken; empty=", Url));
        JsonElement cookies = answer.RootElement.GetProperty("cookies");
        Assert.Equal(["session=abc123", "theme=dark", "empty="], cookies.EnumerateObject().Select(c => c.Name + "=" + c.Value.GetString()));
    }

    [Theory]
    [InlineData("multipart/form-data; boundary=zz", "no boundary line here", "400", "Invalid form data: the multipart body has no boundary line.")]
    [InlineData("multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue", "400", "Invalid form data: the multipart body ended before its final boundary (--boundary--).")]
    [InlineData("multipart/form-data", "--zz--", "400", "Invalid form data: the multipart/form-data Content-Type has no boundary parameter.")]
    [InlineData("multipart/form-data; boundary=\"a b \"", "--zz--", "400", "Invalid form data: the multipart boundary must be 1 to 70 characters")]
    [InlineData("multipart/form-data; boundary=zz", "--zz\r\nContent-Type: text/plain\r\n\r\nx\r\n--zz--", "400", "Invalid form data: a part has no Content-Disposition header.")]
    public async Task AMalformedFormIsAnsweredWithItsReason(string contentType, string body, string status, string message)
    {
        string bodyPath = Path.Combine(_folder, "body");
        await File.WriteAllTextAsync(bodyPath, body);
        string answer = await CurlAsync("-sS", "-w", "\n%{http_code}", "-H", "Content-Type: " + contentType, "--data-binary", "@" + bodyPath, Url);
        Assert.StartsWith(message, answer);
        Assert.EndsWith("\n" + status, answer);
    }

    private static async Task<string> CurlAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("curl", ["--max-time", "60", .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var curl = Process.Start(start)!;
        Task<string> error = curl.StandardError.ReadToEndAsync();
        string text = await curl.StandardOutput.ReadToEndAsync();
        await curl.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        Assert.True(curl.ExitCode == 0, $"curl failed ({curl.ExitCode}): {await error}");
        return text;
    }
}
