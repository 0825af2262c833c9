using Microsoft.Win32.SafeHandles;

namespace Eddy.Interop;

/// <summary>Owns a file descriptor: closes it on Dispose, or in the finalizer when its owner was never disposed.</summary>
internal sealed class SafeFdHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeFdHandle(int fd) : base(ownsHandle: true) => SetHandle(fd);

    /// <summary>The descriptor. Immutable until the handle is closed; the number may be reused after that.</summary>
    public int Fd => (int)handle;

    // 0 is a valid descriptor; only -1 is not.
    public override bool IsInvalid => handle == -1;

    protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0 || Libc.LastErrno() == Errno.EINTR;
}
