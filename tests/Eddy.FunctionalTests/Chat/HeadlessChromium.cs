using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Eddy.FunctionalTests.Chat;

/// <summary>
/// Debian's <c>chromium</c>, headless, driven over the Chrome DevTools Protocol with nothing but
/// <see cref="ClientWebSocket"/>: one connection to the browser, one flattened session per page
/// (<c>Target.attachToTarget</c> with <c>flatten</c>). Disposing closes the browser and kills its process tree,
/// whatever happened before, and deletes its profile folder.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonNode>> _calls = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly StringBuilder _stderr = new();
    private Task _reading = Task.CompletedTask;
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>The browser executable: <c>$CHROMIUM</c>, else Debian's <c>/usr/bin/chromium</c>.</summary>
    public static string Executable => Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public static async Task<HeadlessChromium> StartAsync()
    {
        Assert.True(File.Exists(Executable), $"{Executable} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does, or set CHROMIUM");
        string profile = Directory.CreateTempSubdirectory("eddy-chromium-").FullName;
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start; the browser visits only our page.
        // --remote-debugging-port=0: the OS picks the port; Chromium prints the browser's DevTools URL on stderr.
        foreach (string arg in new[]
        {
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", $"--user-data-dir={profile}",
            "--window-size=800,600", "about:blank",
        })
        {
            start.ArgumentList.Add(arg);
        }
        Process process = Process.Start(start) ?? throw new InvalidOperationException($"{Executable} did not start");
        var browser = new HeadlessChromium(process, profile);
        try
        {
            var devTools = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            process.ErrorDataReceived += (_, line) =>
            {
                if (line.Data is null)
                {
                    devTools.TrySetException(new InvalidOperationException($"chromium ended its stderr before naming its DevTools URL:\n{browser.Stderr}"));
                    return;
                }
                lock (browser._stderr)
                {
                    browser._stderr.AppendLine(line.Data);
                }
                const string Prefix = "DevTools listening on ";
                if (line.Data.StartsWith(Prefix, StringComparison.Ordinal))
                {
                    devTools.TrySetResult(line.Data[Prefix.Length..].Trim());
                }
            };
            process.OutputDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            string url = await devTools.Task.WaitAsync(Timeout);
            using var cts = new CancellationTokenSource(Timeout);
            await browser._socket.ConnectAsync(new Uri(url), cts.Token);
            browser._reading = browser.ReadAsync();
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Opens a new page (tab) on about:blank, attached with its own session, Page and Runtime enabled.</summary>
    public async Task<ChromiumPage> NewPageAsync()
    {
        JsonNode target = await CallAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" });
        JsonNode attached = await CallAsync("Target.attachToTarget", new JsonObject { ["targetId"] = target["targetId"]!.GetValue<string>(), ["flatten"] = true });
        var page = new ChromiumPage(this, attached["sessionId"]!.GetValue<string>());
        await page.CallAsync("Page.enable");
        await page.CallAsync("Runtime.enable");
        return page;
    }

    /// <summary>One CDP command (to the browser, or to a page's session); its result, or an exception with the error.</summary>
    public async Task<JsonNode> CallAsync(string method, JsonObject? parameters = null, string? sessionId = null)
    {
        int id = Interlocked.Increment(ref _nextId);
        var call = new TaskCompletionSource<JsonNode>(TaskCreationOptions.RunContinuationsAsynchronously);
        _calls[id] = call;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        if (sessionId is not null)
        {
            message["sessionId"] = sessionId;
        }
        byte[] bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        using var cts = new CancellationTokenSource(Timeout);
        await _sendLock.WaitAsync(cts.Token);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, cts.Token);
        }
        finally
        {
            _sendLock.Release();
        }
        try
        {
            return await call.Task.WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{method}: no answer within {Timeout.TotalSeconds} s");
        }
        finally
        {
            _calls.TryRemove(id, out _);
        }
    }

    /// <summary>Routes answers to their callers by id; events (no id) are not needed and dropped.</summary>
    private async Task ReadAsync()
    {
        Exception ended = new InvalidOperationException("the DevTools connection closed");
        try
        {
            await WebSocketMessages.ReadEachAsync(_socket, message =>
            {
                JsonNode? node = JsonNode.Parse(message.Span);
                if (node?["id"] is JsonNode idNode && _calls.TryGetValue(idNode.GetValue<int>(), out TaskCompletionSource<JsonNode>? call))
                {
                    if (node["error"] is JsonNode error)
                    {
                        call.TrySetException(new InvalidOperationException($"CDP error: {error.ToJsonString()}"));
                    }
                    else
                    {
                        call.TrySetResult(node["result"] ?? new JsonObject());
                    }
                }
            });
        }
        catch (Exception error) when (error is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            ended = error;
        }
        finally
        {
            foreach (TaskCompletionSource<JsonNode> call in _calls.Values)
            {
                call.TrySetException(ended);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                // A polite close first; the kill below happens whatever it does.
                await CallAsync("Browser.close").WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
        finally
        {
            _socket.Abort();
            _socket.Dispose();
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It has exited already.
            }
            Assert.True(_process.WaitForExit(TimeSpan.FromSeconds(30)), "chromium did not exit within 30 s of being killed");
            _process.Dispose();
            await _reading.WaitAsync(TimeSpan.FromSeconds(10));
            try
            {
                Directory.Delete(_profile, recursive: true);
            }
            catch (IOException)
            {
                // A file the dying browser still wrote; the temp folder is the OS's to clean.
            }
        }
    }
}

/// <summary>One page (tab) of <see cref="HeadlessChromium"/>, through its session.</summary>
internal sealed class ChromiumPage(HeadlessChromium browser, string sessionId)
{
    public Task<JsonNode> CallAsync(string method, JsonObject? parameters = null) => browser.CallAsync(method, parameters, sessionId);

    /// <summary>Navigates; returns once the new document is committed (its scripts may still be loading).</summary>
    public async Task NavigateAsync(Uri url)
    {
        JsonNode result = await CallAsync("Page.navigate", new JsonObject { ["url"] = url.ToString() });
        Assert.True(result["errorText"] is null, $"navigation to {url} failed: {result["errorText"]}");
    }

    /// <summary>
    /// Evaluates <paramref name="expression"/> (awaiting it if it is a promise) and returns its value as JSON; a
    /// JavaScript exception fails the test with its text.
    /// </summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        JsonNode result;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                result = await CallAsync("Runtime.evaluate", new JsonObject
                {
                    ["expression"] = expression,
                    ["awaitPromise"] = true,
                    ["returnByValue"] = true,
                });
                break;
            }
            catch (InvalidOperationException error) when (attempt < 3 && error.Message.Contains("context", StringComparison.OrdinalIgnoreCase))
            {
                // The page's document was replaced under the call (a navigation finishing): run it again in the new one.
            }
        }
        if (result["exceptionDetails"] is JsonNode exception)
        {
            Assert.Fail($"JavaScript threw: {exception["exception"]?["description"] ?? exception.ToJsonString()}");
        }
        return result["result"]?["value"];
    }

    /// <summary>
    /// Waits in the page until <paramref name="condition"/> (a JavaScript expression) is truthy: checked at once and
    /// on every DOM change (a MutationObserver, no polling); rejects after <paramref name="timeoutMs"/> (30 s) with the page's
    /// text, so a failure says what the page showed.
    /// </summary>
    public Task<JsonNode?> WaitForAsync(string condition, int timeoutMs = 30_000) => EvaluateAsync($$"""
        new Promise((resolve, reject) => {
          const check = () => { try { return !!({{condition}}); } catch (e) { return false; } };
          if (check()) { resolve(true); return; }
          const observer = new MutationObserver(() => { if (check()) { observer.disconnect(); clearTimeout(timer); resolve(true); } });
          observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
          const timer = setTimeout(() => {
            observer.disconnect();
            reject(new Error("not met within {{timeoutMs}} ms: " + {{JsonSerializer.Serialize(condition)}} + "; the page shows: " + (document.body ? document.body.innerText : "(no body)")));
          }, {{timeoutMs}});
        })
        """);

    /// <summary>A PNG of the page as it is drawn now.</summary>
    public async Task<byte[]> ScreenshotAsync()
    {
        JsonNode result = await CallAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        return Convert.FromBase64String(result["data"]!.GetValue<string>());
    }
}
