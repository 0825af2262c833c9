using System.Runtime.CompilerServices;

namespace Eddy.Loop.Internal;

/// <summary>A callback and its state, as the ready queue stores it: no closure, no allocation.</summary>
/// <remarks><see cref="Callback"/> is an <c>Action&lt;object?&gt;</c>, an <c>Action</c>, a
/// <c>SendOrPostCallback</c> or a <see cref="TimerEntry"/>; <see cref="EventLoop"/> dispatches on the type.</remarks>
internal readonly struct Work(object callback, object? state)
{
    public readonly object Callback = callback;
    public readonly object? State = state;
}

/// <summary>FIFO ring buffer of <see cref="Work"/>; grows by doubling and never shrinks. Loop thread only.</summary>
internal sealed class WorkQueue
{
    private Work[] _items = new Work[256];
    private int _head;
    private int _count;

    public int Count => _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enqueue(in Work work)
    {
        if (_count == _items.Length)
        {
            Grow();
        }
        _items[(_head + _count) & (_items.Length - 1)] = work;
        _count++;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Work Dequeue()
    {
        ref Work slot = ref _items[_head];
        Work work = slot;
        slot = default; // let the GC have the callback's state
        _head = (_head + 1) & (_items.Length - 1);
        _count--;
        return work;
    }

    public void Clear()
    {
        Array.Clear(_items);
        _head = 0;
        _count = 0;
    }

    private void Grow()
    {
        var bigger = new Work[_items.Length * 2];
        for (int i = 0; i < _count; i++)
        {
            bigger[i] = _items[(_head + i) & (_items.Length - 1)];
        }
        _items = bigger;
        _head = 0;
    }
}
