namespace Eddy.Http.Internal;

/// <summary>
/// The rule a request's objects live by, and the error that states it. A connection reuses its
/// <see cref="HttpContext"/>, <see cref="HttpRequest"/>, <see cref="HttpResponse"/> and body stream for each
/// of its requests (that is what keeps a request free of allocation); once a handler's task has completed,
/// they are marked done until the connection's next request starts, and every use of them throws this
/// rather than read a reset object (issue 14: a logging middleware that read the request in a
/// <c>CallSoon</c> got an <see cref="ArgumentOutOfRangeException"/> from a request already reset).
/// </summary>
internal static class RequestLifetime
{
    internal const string Rule =
        "This request has completed: an HttpContext, its Request, Response and body are valid only until the handler's task completes, " +
        "and the connection reuses them for its next request. Copy what you need (for example ctx.Request.Path) before the handler returns.";

    /// <summary>Kept out of line so the check at each use stays a load and a branch.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    internal static void ThrowCompleted(string objectName) => throw new ObjectDisposedException(objectName, Rule);
}
