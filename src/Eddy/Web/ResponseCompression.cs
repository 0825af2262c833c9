using Eddy.Http;
using Eddy.Http.Internal;

namespace Eddy.Web;

/// <summary><c>app.UseResponseCompression()</c>: brotli or gzip for the responses that gain from it.</summary>
public static class ResponseCompression
{
    extension(WebApp app)
    {
        /// <summary>
        /// Compresses the responses of the handlers after it (add it first) with the coding the client prefers among
        /// brotli and gzip (<c>Accept-Encoding</c>, q-values honoured; brotli on a tie), for the types, sizes and
        /// schemes <paramref name="options"/> allow; adds <c>Vary: Accept-Encoding</c> to every compressible response.
        /// Whole bodies (<c>Text</c>, <c>Bytes</c>, <c>Json</c>) go with their compressed length; streamed bodies chunked,
        /// each write compressed and flushed. Never compressed: HEAD, 1xx/204/206/304, a response that has
        /// <c>Content-Encoding</c> or <c>Content-Range</c> already, <c>text/event-stream</c>, HTTPS unless enabled.
        /// </summary>
        public WebApp UseResponseCompression(ResponseCompressionOptions? options = null)
        {
            options ??= new ResponseCompressionOptions();
            return app.Use((context, next) =>
            {
                if ((context.Request.Tls is null || options.EnableForHttps) && (options.RequestFilter is null || options.RequestFilter(context)))
                {
                    context.Response.EnableCompression(options, ContentCodings.Negotiate(context.Request.Headers["Accept-Encoding"]));
                }
                return next(context);
            });
        }
    }
}
