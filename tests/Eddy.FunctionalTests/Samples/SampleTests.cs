using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Eddy.FunctionalTests.Samples;

/// <summary>
/// Every sample of <c>samples/</c> runs and answers, and every C# block of README.md is a piece of one of them,
/// line for line, so the README cannot drift from an API that compiles (issue 14).
/// </summary>
public sealed partial class SampleTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task HelloWebAppAnswersItsRoutesAndLogsEachRequest()
    {
        using SampleProcess sample = await SampleProcess.StartAsync("01-HelloWebApp");
        using var http = new HttpClient { BaseAddress = new Uri($"http://{sample.EndPoint}"), Timeout = Timeout };
        Assert.Equal("Hello, world!", await http.GetStringAsync("/hello/world"));
        Assert.Equal("""{"Id":5}""", await http.GetStringAsync("/users/5"));
        using HttpResponseMessage posted = await http.PostAsync("/users", new StringContent("""{"Id":7}"""));
        Assert.Equal("""{"Id":7}""", await posted.Content.ReadAsStringAsync());
        using HttpResponseMessage put = await http.PutAsync("/files/a.txt", new StringContent("uploaded"));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal("uploaded", await File.ReadAllTextAsync(Path.Combine(sample.WorkingDirectory, "uploads", "a.txt")));
        using HttpResponseMessage missing = await http.GetAsync("/static/none.css");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode); // no wwwroot: no static files, and it started all the same

        await sample.WaitForOutputAsync("GET /hello/world 200");   // the logging middleware, once per request
        await sample.WaitForOutputAsync("PUT /files/a.txt 201");
        Assert.Empty(sample.Stderr);
    }

    [Fact]
    public async Task GenericHostSampleServesItsJsonApiWithServicesFromTheHost()
    {
        using SampleProcess sample = await SampleProcess.StartAsync("08-GenericHost");
        using var http = new HttpClient { BaseAddress = new Uri($"http://{sample.EndPoint}"), Timeout = Timeout };
        using HttpResponseMessage created = await http.PostAsync("/todos", new StringContent("""{"Title":"write docs"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("""{"Id":1,"Title":"write docs"}""", await created.Content.ReadAsStringAsync());
        Assert.Equal("""{"Id":1,"Title":"write docs"}""", await http.GetStringAsync("/todos/1"));
        using HttpResponseMessage missing = await http.GetAsync("/todos/2");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using HttpResponseMessage invalid = await http.PostAsync("/todos", new StringContent("""{"Title":" "}"""));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Empty(sample.Stderr);
    }

    [Theory]
    [InlineData("02-SocketEcho", "ping\n", "ping\n")]
    [InlineData("03-ProtocolEcho", "ping\n", "ping\n")]
    [InlineData("04-StreamsEcho", "abc\nxyz\n", "ABC\nXYZ\n")]
    public async Task AnEchoSampleAnswersOverTcp(string name, string send, string expected)
    {
        using SampleProcess sample = await SampleProcess.StartAsync(name);
        using var client = new TcpClient();
        using var cts = new CancellationTokenSource(Timeout);
        await client.ConnectAsync(sample.EndPoint, cts.Token);
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(send), cts.Token);
        byte[] received = new byte[expected.Length];
        await stream.ReadExactlyAsync(received, cts.Token);
        Assert.Equal(expected, Encoding.ASCII.GetString(received));
        Assert.Empty(sample.Stderr);
    }

    [Fact]
    public async Task WebSocketSampleEchoesAndGreets()
    {
        using SampleProcess sample = await SampleProcess.StartAsync("05-WebSocketEcho");
        using var cts = new CancellationTokenSource(Timeout);
        byte[] buffer = new byte[1024];

        using (var echo = new ClientWebSocket())
        {
            echo.Options.AddSubProtocol("echo");
            await echo.ConnectAsync(new Uri($"ws://{sample.EndPoint}/echo"), cts.Token);
            Assert.Equal("echo", echo.SubProtocol);
            await echo.SendAsync("hi there"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, cts.Token);
            WebSocketReceiveResult back = await echo.ReceiveAsync(buffer, cts.Token);
            Assert.Equal("hi there", Encoding.UTF8.GetString(buffer, 0, back.Count));
            await echo.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
        }

        using var hello = new ClientWebSocket();
        await hello.ConnectAsync(new Uri($"ws://{sample.EndPoint}/hello"), cts.Token);
        WebSocketReceiveResult greeting = await hello.ReceiveAsync(buffer, cts.Token);
        Assert.Equal("hello", Encoding.UTF8.GetString(buffer, 0, greeting.Count));
        WebSocketReceiveResult close = await hello.ReceiveAsync(buffer, cts.Token);
        Assert.Equal(WebSocketMessageType.Close, close.MessageType);
        Assert.Equal("bye", hello.CloseStatusDescription);
        Assert.Empty(sample.Stderr);
    }

    [Fact]
    public async Task WebSocketClientSampleTalksToTheEchoSample()
    {
        using SampleProcess server = await SampleProcess.StartAsync("05-WebSocketEcho");
        (int exitCode, string stdout, string stderr) = await SampleProcess.RunToEndAsync("09-WebSocketClient", $"ws://{server.EndPoint}/echo");
        Assert.True(exitCode == 0, $"exit {exitCode}: {stderr}");
        Assert.Equal("echo: hello", stdout.Trim());
        Assert.Empty(server.Stderr);
    }

    [Fact]
    public async Task TlsSampleServesHttpsAndItsClientTrustsIt()
    {
        using SampleProcess sample = await SampleProcess.StartAsync("06-TlsHello");
        await sample.WaitForOutputAsync("hello over TLS"); // its own TLS client got the answer
        Assert.True(File.Exists(Path.Combine(sample.WorkingDirectory, "cert.pem")));
        Assert.Empty(sample.Stderr);
    }

    [Fact]
    public async Task FormsAndCookiesSampleGuardsItsGroupAndReadsForms()
    {
        using SampleProcess sample = await SampleProcess.StartAsync("07-FormsAndCookies");
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = new Uri($"http://{sample.EndPoint}"), Timeout = Timeout };

        using HttpResponseMessage anonymous = await http.GetAsync("/api/me");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using HttpResponseMessage login = await http.PostAsync("/login", content: null);
        string setCookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("session=s3cr3t; ", setCookie);
        Assert.Contains("HttpOnly", setCookie);

        using var me = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        me.Headers.Add("Cookie", "session=s3cr3t");
        using HttpResponseMessage known = await http.SendAsync(me);
        Assert.Equal("you\n", await known.Content.ReadAsStringAsync());
        using var cache = new HttpRequestMessage(HttpMethod.Delete, "/api/admin/cache");
        cache.Headers.Add("Cookie", "session=s3cr3t");
        using HttpResponseMessage cleared = await http.SendAsync(cache);
        Assert.Equal(HttpStatusCode.NoContent, cleared.StatusCode);

        using var upload = new MultipartFormDataContent { { new StringContent("hi"), "note" }, { new ByteArrayContent(new byte[100_000]), "file", "zeros.bin" } };
        using HttpResponseMessage stored = await http.PostAsync("/upload-form", upload);
        Assert.Equal("stored\n", await stored.Content.ReadAsStringAsync());
        Assert.Equal(100_000, new FileInfo(Assert.Single(Directory.GetFiles(Path.Combine(sample.WorkingDirectory, "uploads")))).Length);

        using HttpResponseMessage searched = await http.PostAsync("/search", new FormUrlEncodedContent([new("q", "event loops")]));
        Assert.Equal("q=event loops\n", await searched.Content.ReadAsStringAsync());
        Assert.Empty(sample.Stderr);
    }

    [Fact]
    public void EveryReadmeCodeBlockIsPartOfASample()
    {
        string root = SampleProcess.RepositoryRoot;
        string[] readme = File.ReadAllLines(Path.Combine(root, "README.md"));
        int blocks = 0;
        for (int i = 0; i < readme.Length; i++)
        {
            if (readme[i] != "```csharp")
            {
                continue;
            }
            blocks++;
            Match marker = SampleMarker().Match(i > 0 ? readme[i - 1] : "");
            Assert.True(marker.Success, $"README.md line {i + 1}: a C# block without a '<!-- sample: samples/… -->' line above it");
            int end = Array.IndexOf(readme, "```", i + 1);
            string[] block = readme[(i + 1)..end];
            string[] sample = File.ReadAllLines(Path.Combine(root, marker.Groups[1].Value));
            Assert.True(ContainsRun(sample, block), $"README.md line {i + 1}: the block is not, line for line, in {marker.Groups[1].Value}");
            i = end;
        }
        Assert.True(blocks >= 7, $"only {blocks} C# blocks found in README.md");
    }

    private static bool ContainsRun(string[] lines, string[] run)
    {
        for (int start = 0; start + run.Length <= lines.Length; start++)
        {
            if (lines.AsSpan(start, run.Length).SequenceEqual(run))
            {
                return true;
            }
        }
        return false;
    }

    [GeneratedRegex(@"^<!-- sample: (samples/[^ ]+\.cs) ")]
    private static partial Regex SampleMarker();
}
