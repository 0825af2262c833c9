using System.Runtime.InteropServices;

namespace Eddy.Interop;

/// <summary>Native memory that epoll_wait fills; allocated once per selector so Select allocates nothing.</summary>
internal sealed unsafe class EpollEventBuffer : IDisposable
{
    public const int Capacity = 1024;

    private byte* _events = (byte*)NativeMemory.AllocZeroed((nuint)(Capacity * Libc.EpollEventSize));

    public int Wait(int epfd, int maxEvents, int timeoutMs) => Libc.EpollWait(epfd, _events, maxEvents, timeoutMs);

    public void Get(int index, out uint flags, out ulong data)
    {
        byte* ev = _events + index * Libc.EpollEventSize;
        flags = *(uint*)ev;
        data = *(ulong*)(ev + Libc.EpollDataOffset);
    }

    public void Dispose()
    {
        if (_events != null)
        {
            NativeMemory.Free(_events);
            _events = null;
        }
        GC.SuppressFinalize(this);
    }

    ~EpollEventBuffer() => Dispose();
}
