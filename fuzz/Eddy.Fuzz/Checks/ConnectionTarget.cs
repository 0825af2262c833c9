using System.Text;
using System.Text.RegularExpressions;
using Eddy.Http;
using Eddy.Http.Parsing;
using Eddy.Web;

namespace Eddy.Fuzz;

/// <summary>
/// The <c>connection</c> target: the bytes go through a whole <c>HttpConnection</c> (in memory, see
/// <see cref="InMemoryHttp"/>) serving a small echo application, once in one read and once in the pieces the
/// control bytes choose, then EOF. What the connection writes must be the same both ways (but for the Date),
/// must be whole responses — answers, then at most one error response, which must close — and nothing may
/// reach the loop's exception handler. The parser's own checks run in the other targets; this one checks
/// what the client would see.
/// </summary>
internal static partial class ConnectionTarget
{
    /// <summary>
    /// The application: each route answers "{id}:" and the body as read — read whole, in small pieces across ticks,
    /// or not at all. Every answer to a HEAD request says so (<c>X-Head</c>), for the check to expect no body.
    /// </summary>
    public static RequestHandler App { get; } = MarkHead(new WebApp()
        .MapAny("/sync/{id}", async ctx => Echo(ctx, await ctx.Request.ReadBodyAsync()))
        .MapAny("/async/{id}", async ctx =>
        {
            await Task.Yield();
            var body = new MemoryStream();
            byte[] buffer = new byte[5];
            int n;
            while ((n = await ctx.Request.Body.ReadAsync(buffer)) > 0)
            {
                body.Write(buffer, 0, n);
                await ctx.Loop.Delay(TimeSpan.Zero);
            }
            Echo(ctx, body.ToArray());
        })
        .MapAny("/ignore/{id}", ctx => Echo(ctx, ReadOnlyMemory<byte>.Empty))
        .MapGet("/stream/{id}", async ctx =>
        {
            await ctx.Response.WriteAsync(Encoding.ASCII.GetBytes(ctx.Request.RouteValues.GetString("id") + ":"));
            await ctx.Response.WriteAsync("streamed"u8.ToArray());
        })
        .Build());

    private static RequestHandler MarkHead(RequestHandler app) => ctx =>
    {
        if (ctx.Request.Verb == HttpVerb.Head)
        {
            ctx.Response.Headers.Set("X-Head", "1");
        }
        return app(ctx);
    };

    private static void Echo(HttpContext ctx, ReadOnlyMemory<byte> body) =>
        ctx.Response.Bytes([.. Encoding.ASCII.GetBytes(ctx.Request.RouteValues.GetString("id") + ":"), .. body.Span]);

    public static string Run(byte[] input)
    {
        ControlBytes control = ControlBytes.Read(input);
        byte[] stream = input[control.DataStart..];
        var options = new HttpServerOptions { ParserLimits = control.Limits, MaxRequestBodySize = control.MaxBodySize, MaxRequestBufferSize = 256 };
        string whole = Exchange(stream, PieceSchedule.Whole, options);
        string pieces = Exchange(stream, control.Schedule, options);
        if (whole != pieces)
        {
            throw new FuzzCheckException($"the connection answered differently in pieces ({control.Schedule}):\n--- whole\n{Cap(whole)}\n--- in pieces\n{Cap(pieces)}");
        }
        return whole;
    }

    private static string Exchange(byte[] stream, PieceSchedule schedule, HttpServerOptions options)
    {
        using var http = new InMemoryHttp(App, options);
        http.Run(async () =>
        {
            int sent = 0;
            for (int piece = 0; sent < stream.Length; piece++)
            {
                int size = (int)Math.Min(schedule.Size(piece), (long)(stream.Length - sent));
                await http.SendAsync(stream.AsMemory(sent, size));
                sent += size;
            }
            await http.SendEofAsync();
        });
        if (http.Errors.Count > 0)
        {
            throw new FuzzCheckException($"the loop's exception handler was called: {http.Errors[0]}");
        }
        if (!http.Transport.IsClosed)
        {
            throw new FuzzCheckException("the connection stayed open after the client's EOF");
        }
        string output = DateLine().Replace(http.OutputText, "Date: *");
        CheckResponses(output);
        return output + (http.Transport.WasAborted ? "\n[aborted]" : "\n[closed]");
    }

    /// <summary>Whole responses only; a rejection (a 4xx/5xx but the router's 404 and 405) says Connection: close and nothing follows it.</summary>
    private static void CheckResponses(string output)
    {
        int at = 0;
        while (at < output.Length)
        {
            int end = output.IndexOf("\r\n\r\n", at, StringComparison.Ordinal);
            if (end < 0 || !output.AsSpan(at).StartsWith("HTTP/1.1 "))
            {
                throw new FuzzCheckException($"not a response at {at}: {Cap(output[at..])}");
            }
            string head = output[at..end];
            int status = int.Parse(head.AsSpan(9, 3));
            at = end + 4;
            if (status == 100)
            {
                continue;
            }
            if (head.Contains("\r\nX-Head: 1", StringComparison.Ordinal))
            {
                // RFC 9110 §9.3.2: the fields of a GET, no body.
            }
            else if (head.Contains("\r\nTransfer-Encoding: chunked", StringComparison.Ordinal))
            {
                int last = output.IndexOf("0\r\n\r\n", at, StringComparison.Ordinal);
                at = last < 0 ? throw new FuzzCheckException("a chunked response without its last chunk") : last + 5;
            }
            else
            {
                Match length = ContentLength().Match(head);
                at += length.Success ? int.Parse(length.Groups[1].Value) : 0;
            }
            if (at > output.Length)
            {
                throw new FuzzCheckException("a response shorter than its Content-Length");
            }
            if (status >= 400 && status is not (404 or 405)) // the router's answers are answers; anything else is the connection's rejection
            {
                if (!head.Contains("\r\nConnection: close", StringComparison.Ordinal))
                {
                    throw new FuzzCheckException($"an error response ({status}) that does not close the connection");
                }
                if (at != output.Length)
                {
                    throw new FuzzCheckException($"bytes after an error response ({status})");
                }
            }
        }
    }

    private static string Cap(string text) => text.Length <= 4000 ? text : text[..4000] + "…";

    [GeneratedRegex("Date: [^\r]*")]
    private static partial Regex DateLine();

    [GeneratedRegex("\r\nContent-Length: ([0-9]+)")]
    private static partial Regex ContentLength();
}
