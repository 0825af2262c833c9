using Eddy.Selectors;
using Microsoft.Extensions.Time.Testing;

namespace Eddy.UnitTests.Loop;

/// <summary>
/// A selector that never blocks, for loop tests (cpython's TestSelector): it records every timeout the loop
/// asks for, reports the readiness a test sets with <see cref="SetReady"/>, and — given a clock — advances
/// that clock by the timeout, as if the wait had really passed with nothing happening. An infinite wait
/// with nothing ready would hang a real loop, so after <see cref="MaxIdleInfiniteSelects"/> of them in a
/// row it throws: the test fails instead of spinning.
/// </summary>
internal sealed class FakeSelector(FakeTimeProvider? clock = null) : Selector
{
    private readonly Dictionary<int, Interest> _ready = [];
    private int _idleInfiniteSelects;

    public const int MaxIdleInfiniteSelects = 1000;

    public override string Name => "fake";

    /// <summary>Every timeout passed to Select, in order.</summary>
    public List<int> Timeouts { get; } = [];

    public int LastTimeout => Timeouts[^1];

    /// <summary>Backend calls, e.g. "add 12 Read", "modify 12 ReadWrite", "remove 12".</summary>
    public List<string> BackendCalls { get; } = [];

    /// <summary>Runs inside each Select, before it reports: lets a test act "while the loop waits".</summary>
    public Action? OnSelect { get; set; }

    /// <summary>Reports <paramref name="fd"/> as <paramref name="ready"/> in every Select until cleared (level-triggered).</summary>
    public void SetReady(int fd, Interest ready)
    {
        if (ready == Interest.None)
        {
            _ready.Remove(fd);
        }
        else
        {
            _ready[fd] = ready;
        }
    }

    protected override void AddToBackend(SelectorKey key) => BackendCalls.Add($"add {key.Fd} {key.Interest}");

    protected override void ModifyInBackend(SelectorKey key, Interest interest) => BackendCalls.Add($"modify {key.Fd} {interest}");

    protected override void RemoveFromBackend(SelectorKey key) => BackendCalls.Add($"remove {key.Fd}");

    protected override int SelectCore(Span<SelectorEvent> events, int timeoutMs)
    {
        Timeouts.Add(timeoutMs);
        OnSelect?.Invoke();
        int count = 0;
        foreach ((int fd, Interest ready) in _ready)
        {
            if (count < events.Length && TryGetKey(fd, out SelectorKey? key) && (ready & key.Interest) != 0)
            {
                events[count++] = new SelectorEvent(key, ready & key.Interest);
            }
        }
        if (count > 0)
        {
            _idleInfiniteSelects = 0;
            return count;
        }
        if (timeoutMs > 0)
        {
            clock?.Advance(TimeSpan.FromMilliseconds(timeoutMs));
        }
        if (timeoutMs < 0 && ++_idleInfiniteSelects >= MaxIdleInfiniteSelects)
        {
            throw new InvalidOperationException("The loop waits forever with nothing to do: a real loop would hang here.");
        }
        if (timeoutMs >= 0)
        {
            _idleInfiniteSelects = 0;
        }
        return 0;
    }

    protected override void CloseBackend() => BackendCalls.Add("close");
}
