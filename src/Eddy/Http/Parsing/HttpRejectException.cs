namespace Eddy.Http.Parsing;

/// <summary>
/// A request the parser will not accept: the server answers with <see cref="StatusCode"/> and closes the
/// connection (the framing of whatever follows is unknown). The message is safe to log or send back:
/// it echoes at most a few dozen request bytes, escaped, and never a field value (which may carry
/// credentials). This is the only exception the parser and the body decoders throw on bad input.
/// </summary>
public sealed class HttpRejectException : IOException
{
    /// <summary>A rejection for <paramref name="reason"/>; <paramref name="message"/> must already be safe to send back (escaped, capped).</summary>
    public HttpRejectException(HttpRejectReason reason, string message)
        : base(message)
    {
        Reason = reason;
        StatusCode = GetStatusCode(reason);
    }

    /// <summary>Why the request was rejected.</summary>
    public HttpRejectReason Reason { get; }

    /// <summary>The response status code for <see cref="Reason"/>.</summary>
    public int StatusCode { get; }

    /// <summary>The status code a server answers a rejection with.</summary>
    public static int GetStatusCode(HttpRejectReason reason) => reason switch
    {
        HttpRejectReason.RequestLineTooLong => 414,
        HttpRejectReason.HeadersTooLarge or HttpRejectReason.TooManyHeaders => 431,
        HttpRejectReason.UnsupportedVersion => 505,
        HttpRejectReason.UnsupportedTransferCoding => 501,
        HttpRejectReason.BodyTooLarge or HttpRejectReason.FormTooLarge => 413,
        HttpRejectReason.BodyTimeout => 408,
        _ => 400,
    };
}
