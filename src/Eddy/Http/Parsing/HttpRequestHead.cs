namespace Eddy.Http.Parsing;

/// <summary>
/// What a server needs from a parsed head to frame the body and manage the connection, computed while
/// the field lines were parsed (<see cref="HttpParser.TryParseHead"/>). A small value: copy it freely.
/// </summary>
public readonly struct HttpRequestHead
{
    /// <summary>The method as an enum; <see cref="HttpVerb.Extension"/> for a method Eddy does not name.</summary>
    public HttpVerb Verb { get; init; }

    /// <summary>The version of the request-line.</summary>
    public HttpProtocolVersion Version { get; init; }

    /// <summary>The form of the request-target (RFC 9112 §3.2): origin, absolute, authority or asterisk.</summary>
    public HttpTargetForm TargetForm { get; init; }

    /// <summary>How the body is framed (RFC 9112 §6.3).</summary>
    public HttpBodyKind BodyKind { get; init; }

    /// <summary>
    /// The body length when <see cref="BodyKind"/> is <see cref="HttpBodyKind.ContentLength"/>; 0 when it
    /// is <see cref="HttpBodyKind.None"/>; -1 (unknown) when it is <see cref="HttpBodyKind.Chunked"/>.
    /// </summary>
    public long ContentLength { get; init; }

    /// <summary>
    /// Whether the connection may carry another request after this one: HTTP/1.1 unless
    /// <c>Connection: close</c>; HTTP/1.0 only with <c>Connection: keep-alive</c> and no close
    /// (RFC 9112 §9.3).
    /// </summary>
    public bool KeepAlive { get; init; }

    /// <summary>
    /// <c>Expect: 100-continue</c> in an HTTP/1.1 request: the client waits for a 100 (Continue) before
    /// it sends the body. Ignored in HTTP/1.0, as RFC 9110 §10.1.1 requires.
    /// </summary>
    public bool ExpectContinue { get; init; }

    /// <summary>An Upgrade field is present (RFC 9110 §7.8); recorded only: the parser acts on none.</summary>
    public bool HasUpgrade { get; init; }

    /// <summary>The Connection field names <c>upgrade</c>, as an upgrade request must.</summary>
    public bool ConnectionUpgrade { get; init; }

    /// <summary>How many field lines the head had.</summary>
    public int HeaderCount { get; init; }
}
