using Eddy.Selectors;
using Microsoft.Extensions.Logging;

namespace Eddy.Loop;

/// <summary>How to build an <see cref="EventLoop"/>. Every property has a working default.</summary>
public sealed class EventLoopOptions
{
    /// <summary>The selector to drive; the loop takes ownership. Default: <see cref="Selector.Create"/> (epoll).</summary>
    public Selector? Selector { get; set; }

    /// <summary>The clock for timers. Default: <see cref="TimeProvider.System"/> (monotonic). Tests pass a manual one.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Where the default exception handler and debug mode write. Default: standard error.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>Debug mode: checks that loop-only calls come from the loop thread, and reports slow callbacks.</summary>
    public bool Debug { get; set; }

    /// <summary>In debug mode, a callback that runs longer than this is reported (asyncio's slow_callback_duration).</summary>
    public TimeSpan SlowCallbackDuration { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A name for logs and the loop thread.</summary>
    public string? Name { get; set; }
}
