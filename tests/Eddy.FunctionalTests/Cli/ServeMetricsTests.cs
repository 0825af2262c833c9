using System.Text.RegularExpressions;

namespace Eddy.FunctionalTests.Cli;

/// <summary><c>eddy serve --metrics</c> and <c>--access-log</c>, as a user runs them.</summary>
public sealed class ServeMetricsTests
{
    [Fact]
    public async Task MetricsAreServedInThePrometheusTextFormat()
    {
        using EddyServeProcess serve = await EddyServeProcess.StartAsync("--port", "0", "--loops", "1", "--metrics");
        string url = serve.HttpUrls.Single();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("Hello, World!", await client.GetStringAsync($"{url}/plaintext"));
        }

        using (HttpResponseMessage missing = await client.GetAsync($"{url}/no-such-page"))
        {
            Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        }

        using HttpResponseMessage response = await client.GetAsync($"{url}/metrics");
        string text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Contains("# TYPE eddy_http_http_server_request_duration histogram", text);
        Assert.Matches(new Regex("""^eddy_http_http_server_request_duration_count\{http_request_method="GET",http_response_status_code="200",http_route="/plaintext",url_scheme="http"\} 3$""", RegexOptions.Multiline), text);
        // A request no route matched: its series has an empty route (in Prometheus, the same as no label).
        Assert.Matches(new Regex("""^eddy_http_http_server_request_duration_count\{http_request_method="GET",http_response_status_code="404",http_route="",url_scheme="http"\} 1$""", RegexOptions.Multiline), text);
        // The scrape itself is a request in flight, on a connection that is open.
        Assert.Matches(new Regex("""^eddy_http_http_server_active_requests\{http_request_method="GET",url_scheme="http"\} 1$""", RegexOptions.Multiline), text);
        Assert.Matches(new Regex($$"""^eddy_transports_eddy_active_connections\{network_transport="tcp",network_type="ipv4",server_port="{{new Uri(url).Port}}"\} 1$""", RegexOptions.Multiline), text);
        Assert.Contains("# TYPE eddy_loop_eddy_loop_lag histogram", text);
        Assert.Contains("# TYPE system_runtime_dotnet_gc_collections", text);

        (int exitCode, _, _) = await serve.StopAsync();
        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task WithoutMetricsThereIsNoMetricsRouteAndTheAccessLogWritesALinePerRequest()
    {
        using EddyServeProcess serve = await EddyServeProcess.StartAsync("--port", "0", "--loops", "1", "--access-log");
        string url = serve.HttpUrls.Single();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal("Hello, World!", await client.GetStringAsync($"{url}/plaintext"));
        using HttpResponseMessage missing = await client.GetAsync($"{url}/metrics");
        Assert.Equal(404, (int)missing.StatusCode);

        (int exitCode, string stdout, _) = await serve.StopAsync();
        Assert.Equal(0, exitCode);
        Assert.Matches(new Regex(@"^\S+Z info Eddy\.AccessLog: GET /plaintext 200 [0-9.]+ ms 13 B \(route /plaintext\)$", RegexOptions.Multiline), stdout);
        Assert.Matches(new Regex(@"^\S+Z info Eddy\.AccessLog: GET /metrics 404 [0-9.]+ ms 10 B \(route \)$", RegexOptions.Multiline), stdout);
    }
}
