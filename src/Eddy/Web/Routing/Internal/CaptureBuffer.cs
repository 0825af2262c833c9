using System.Runtime.CompilerServices;

namespace Eddy.Web.Routing.Internal;

/// <summary>Where a route value lies in the path: a slice, so capturing it allocates nothing.</summary>
internal readonly struct Capture(int start, int length)
{
    public readonly int Start = start;
    public readonly int Length = length;
}

/// <summary>The captures of one match, inline (no array): <see cref="RouteValues.Capacity"/> at most.</summary>
[InlineArray(RouteValues.Capacity)]
internal struct CaptureBuffer
{
    private Capture _element0;
}
