using System.Diagnostics;
using Eddy.Http;
using Microsoft.Extensions.Logging;

namespace Eddy.Web;

/// <summary>
/// The access log: one structured <see cref="ILogger"/> entry per request, written when the handler (and the
/// middleware inside this one) completes, with the fields <c>Method</c>, <c>Path</c>, <c>Route</c>,
/// <c>StatusCode</c>, <c>DurationMs</c> and <c>BodyBytes</c> (the response body's size), event "AccessLog" (id 1;
/// "AccessLogFailed", id 2, for a handler that threw). Add it with
/// <see cref="WebApp.UseAccessLog"/>, first, so it times everything after it. A request whose
/// handler throws is logged with the 500 the server answers (at warning level); the exception itself goes to the
/// loop's exception handler as before.
/// </summary>
public static partial class AccessLog
{
    /// <summary>The middleware, for <see cref="WebApp.Use"/>; <see cref="WebApp.UseAccessLog"/> adds it for you.</summary>
    public static Func<HttpContext, RequestHandler, ValueTask> Middleware(ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        return (context, next) => InvokeAsync(logger, context, next);
    }

    private static ValueTask InvokeAsync(ILogger logger, HttpContext context, RequestHandler next)
    {
        if (!logger.IsEnabled(LogLevel.Information))
        {
            return next(context); // nobody reads the log: not even a clock read
        }
        long started = Stopwatch.GetTimestamp();
        ValueTask task;
        try
        {
            task = next(context);
        }
        catch (Exception)
        {
            Write(logger, context, started, failed: true);
            throw;
        }
        if (task.IsCompletedSuccessfully)
        {
            Write(logger, context, started, failed: false);
            return task;
        }
        return AwaitAsync(logger, context, started, task);
    }

    private static async ValueTask AwaitAsync(ILogger logger, HttpContext context, long started, ValueTask task)
    {
        try
        {
            await task;
        }
        catch (Exception)
        {
            Write(logger, context, started, failed: true);
            throw;
        }
        Write(logger, context, started, failed: false);
    }

    private static void Write(ILogger logger, HttpContext context, long started, bool failed)
    {
        HttpRequest request = context.Request;
        HttpResponse response = context.Response;
        // A handler that threw before its response started gets a 500 from the server; one that threw after sees
        // its response cut short with the status it had.
        int status = failed && !response.HasStarted ? 500 : response.StatusCode;
        double ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (failed)
        {
            LogFailed(logger, request.Method, request.Path, context.Route, status, ms, response.BodyBytes);
        }
        else
        {
            LogRequest(logger, request.Method, request.Path, context.Route, status, ms, response.BodyBytes);
        }
    }

    [LoggerMessage(EventId = 1, EventName = "AccessLog", Level = LogLevel.Information,
        Message = "{Method} {Path} {StatusCode} {DurationMs:F3} ms {BodyBytes} B (route {Route})")]
    private static partial void LogRequest(ILogger logger, string method, string path, string? route, int statusCode, double durationMs, long bodyBytes);

    [LoggerMessage(EventId = 2, EventName = "AccessLogFailed", Level = LogLevel.Warning,
        Message = "{Method} {Path} {StatusCode} {DurationMs:F3} ms {BodyBytes} B (route {Route}); the handler failed")]
    private static partial void LogFailed(ILogger logger, string method, string path, string? route, int statusCode, double durationMs, long bodyBytes);
}
