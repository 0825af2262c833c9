namespace Eddy.Cli.Load;

/// <summary>
/// A live status line while a run goes on ("3 s  412,345 requests  137,448/s  0 errors"), redrawn in place
/// once a second. Only on a terminal: when standard output is a file or a pipe it would be noise in the
/// report, so <see cref="StartIfTerminal"/> returns null. The text comes from counters the loops write and
/// this reads racily: a figure one update behind is fine for a progress line, a lock on the hot path is not.
/// </summary>
internal sealed class ProgressLine : IDisposable
{
    private readonly Func<string> _describe;
    private readonly Timer _timer;
    private readonly object _gate = new();
    private bool _isDisposed;

    private ProgressLine(Func<string> describe)
    {
        _describe = describe;
        _timer = new Timer(_ => Draw(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public static ProgressLine? StartIfTerminal(Func<string> describe) =>
        Console.IsOutputRedirected ? null : new ProgressLine(describe);

    private void Draw()
    {
        lock (_gate)
        {
            if (!_isDisposed)
            {
                // \r to the start of the line, ESC[K to clear what a longer previous line left.
                Console.Out.Write("\r" + _describe() + "\x1b[K");
                Console.Out.Flush();
            }
        }
    }

    /// <summary>Stops redrawing and clears the line, so the report starts on a clean one.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_isDisposed)
            {
                return;
            }
            _isDisposed = true;
            _timer.Dispose();
            Console.Out.Write("\r\x1b[K");
            Console.Out.Flush();
        }
    }
}
