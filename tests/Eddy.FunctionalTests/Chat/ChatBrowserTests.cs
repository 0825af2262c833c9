using System.Text.Json;
using System.Text.Json.Nodes;

namespace Eddy.FunctionalTests.Chat;

/// <summary>
/// The <c>/chat</c> page in a real browser (headless Chromium, see <see cref="HeadlessChromium"/>): two pages join,
/// one sends, the other shows the message, as text (markup in it stays text). Screenshots of both pages go to
/// <c>screenshots/</c> in the test's output folder.
/// </summary>
public sealed class ChatBrowserTests
{
    private static string Js(string value) => JsonSerializer.Serialize(value);

    [Fact]
    public async Task TwoPagesInChromiumOneSendsTheOtherShowsTheMessage()
    {
        using var server = new ChatServer();
        var url = new Uri($"http://{server.EndPoint}/chat");
        await using HeadlessChromium browser = await HeadlessChromium.StartAsync();
        ChromiumPage sender = await browser.NewPageAsync();
        ChromiumPage receiver = await browser.NewPageAsync();

        await sender.NavigateAsync(url);
        await sender.WaitForAsync("document.getElementById('status').textContent === 'connected, 1 online'");
        await receiver.NavigateAsync(url);
        await receiver.WaitForAsync("document.getElementById('status').textContent === 'connected, 2 online'");
        await sender.WaitForAsync("document.getElementById('status').textContent === 'connected, 2 online'");

        // Markup in a name or a message must show as text: the page uses textContent, never innerHTML.
        const string Name = "Ada <i>L</i>";
        const string Text = "hello from page 1 <b id=\"injected\">bold?</b> & 👋";
        await sender.EvaluateAsync($$"""
            document.getElementById("name").value = {{Js(Name)}};
            document.getElementById("text").value = {{Js(Text)}};
            document.getElementById("send").requestSubmit();
            """);

        string shown = $"document.querySelector('#messages li') && document.querySelector('#messages li').textContent === {Js(Name + Text)}";
        await receiver.WaitForAsync(shown);
        await sender.WaitForAsync(shown);
        foreach (ChromiumPage page in new[] { sender, receiver })
        {
            JsonNode? counts = await page.EvaluateAsync(
                "({ items: document.querySelectorAll('#messages li').length, injected: document.querySelectorAll('#messages b, #messages i, #injected').length, name: document.querySelector('#messages .name').textContent })");
            Assert.Equal(1, counts!["items"]!.GetValue<int>());
            Assert.Equal(0, counts["injected"]!.GetValue<int>());
            Assert.Equal(Name, counts["name"]!.GetValue<string>());
        }
        Assert.Equal(2, server.Room.Online);

        string folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        foreach ((string file, ChromiumPage page) in new[] { ("chat-receiver.png", receiver), ("chat-sender.png", sender) })
        {
            byte[] png = await page.ScreenshotAsync();
            Assert.True(png.AsSpan().StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]), "not a PNG");
            await File.WriteAllBytesAsync(Path.Combine(folder, file), png);
        }
        Assert.Empty(server.Errors);
    }
}
