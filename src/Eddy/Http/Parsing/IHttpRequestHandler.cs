namespace Eddy.Http.Parsing;

/// <summary>
/// Receives the parts of a request head from <see cref="HttpParser.TryParseHead"/>. Implement it on a
/// struct: the parser is generic over the handler, so the calls are direct and can be inlined (as
/// Kestrel's <c>IHttpRequestLineHandler</c>). For one head the calls come in this order, all within one
/// <c>TryParseHead</c> call and only once the whole head has arrived:
/// <code>
/// OnRequestLine -> OnHeader* -> OnHeadersComplete
/// </code>
/// Spans are valid only during the call. If a later part of the head is bad, the parser throws
/// <see cref="HttpRejectException"/> after the earlier calls; the handler must then drop the request.
/// </summary>
public interface IHttpRequestHandler
{
    /// <summary>The request-line, validated.</summary>
    void OnRequestLine(HttpRequestLine requestLine);

    /// <summary>
    /// One field line, in the order received: <paramref name="name"/> as received (compare it
    /// case-insensitively), <paramref name="value"/> with leading and trailing whitespace removed. Field
    /// lines with the same name are delivered one by one, not combined.
    /// </summary>
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value);

    /// <summary>The empty line that ends the head: <paramref name="head"/> holds the framing.</summary>
    void OnHeadersComplete(in HttpRequestHead head);
}
