using System.Net;
using Eddy.Http;
using Eddy.Web;

namespace Eddy.Hosting;

/// <summary>Runs a <see cref="WebApp"/> under a <see cref="ServerHost"/>: signals, graceful drain, descriptor limits.</summary>
public static class WebAppHostExtensions
{
    extension(WebApp app)
    {
        /// <summary>
        /// Serves the app over HTTP on <paramref name="endPoint"/>, one loop per core, until SIGINT/SIGTERM or
        /// <paramref name="cancellationToken"/>; then drains (30 s at most) and returns 0. For several endpoints,
        /// HTTPS or other options, use <see cref="ServerHost"/> (or the overload that takes one).
        /// </summary>
        public Task<int> RunAsync(EndPoint endPoint, CancellationToken cancellationToken = default) =>
            app.RunAsync(endPoint, new ServerHostOptions(), null, cancellationToken);

        /// <summary>Serves the app over HTTP on <paramref name="endPoint"/> under a host made with <paramref name="options"/>, until stopped; returns 0.</summary>
        public Task<int> RunAsync(EndPoint endPoint, ServerHostOptions options, HttpServerOptions? httpOptions = null, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(endPoint);
            return new ServerHost(options).ListenHttp(app.Build(), endPoint, httpOptions).RunAsync(cancellationToken);
        }
    }
}
