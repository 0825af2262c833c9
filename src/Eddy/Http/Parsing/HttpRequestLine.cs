namespace Eddy.Http.Parsing;

/// <summary>
/// A parsed request-line (RFC 9112 §3). The spans point into the parser's input and are valid only
/// during <see cref="IHttpRequestHandler.OnRequestLine"/>: copy what you keep.
/// </summary>
public readonly ref struct HttpRequestLine
{
    internal HttpRequestLine(HttpVerb verb, ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, HttpTargetForm targetForm, HttpProtocolVersion version)
    {
        Verb = verb;
        Method = method;
        Target = target;
        TargetForm = targetForm;
        Version = version;
    }

    /// <summary>The method, or <see cref="HttpVerb.Extension"/> for a token the enum does not name.</summary>
    public HttpVerb Verb { get; }

    /// <summary>The method token as received (case-sensitive), for every verb.</summary>
    public ReadOnlySpan<byte> Method { get; }

    /// <summary>The request-target exactly as received: not decoded, not normalised.</summary>
    public ReadOnlySpan<byte> Target { get; }

    /// <summary>Which of the four forms <see cref="Target"/> has.</summary>
    public HttpTargetForm TargetForm { get; }

    /// <summary>HTTP/1.0 or HTTP/1.1.</summary>
    public HttpProtocolVersion Version { get; }

    /// <summary>The target up to its first <c>?</c> (all of it when there is none).</summary>
    public ReadOnlySpan<byte> Path
    {
        get
        {
            ReadOnlySpan<byte> target = Target;
            int query = target.IndexOf((byte)'?');
            return query < 0 ? target : target[..query];
        }
    }

    /// <summary>The target after its first <c>?</c>, without it; empty when there is none.</summary>
    public ReadOnlySpan<byte> Query
    {
        get
        {
            ReadOnlySpan<byte> target = Target;
            int query = target.IndexOf((byte)'?');
            return query < 0 ? default : target[(query + 1)..];
        }
    }
}
