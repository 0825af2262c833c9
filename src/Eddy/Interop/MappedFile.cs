using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace Eddy.Interop;

/// <summary>
/// A file mapped read-only into the address space (mmap(2), through <see cref="MemoryMappedFile"/>): its
/// bytes as spans that can be handed straight to a socket, without reading the file into the managed heap.
/// The kernel reads a page in on first touch and may drop it again under memory pressure, so a file of any
/// size costs address space, not memory; the pages in use show in the process's RSS as file-backed, shared
/// and clean (RssFile in /proc/PID/status), never as its own heap.
/// <para>
/// The file must not shrink while mapped: touching a page past its new end raises SIGBUS (as with any mmap).
/// Spans may be read on any thread; they must not be used after <see cref="Dispose"/>.
/// </para>
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _start;

    private MappedFile(MemoryMappedFile? file, MemoryMappedViewAccessor? view, long length)
    {
        _file = file;
        _view = view;
        Length = length;
        if (view is not null)
        {
            byte* start = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            _start = start + view.PointerOffset;
        }
    }

    /// <summary>The file's size when it was mapped, in bytes.</summary>
    public long Length { get; }

    /// <summary>
    /// Maps the whole of the regular file open as <paramref name="file"/> (opened for reading; it stays the
    /// caller's to close, and may be closed once this returns). An empty file maps nothing and has no bytes.
    /// </summary>
    /// <exception cref="IOException">The file cannot be mapped (not a regular file, say).</exception>
    public static MappedFile Map(SafeFileHandle file)
    {
        ArgumentNullException.ThrowIfNull(file);
        long length = RandomAccess.GetLength(file);
        if (length == 0)
        {
            return new MappedFile(null, null, 0); // mmap(2) refuses a length of 0
        }
        MemoryMappedFile mapping = MemoryMappedFile.CreateFromFile(file, mapName: null, capacity: 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        try
        {
            return new MappedFile(mapping, mapping.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read), length);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    /// <summary>The <paramref name="length"/> bytes from <paramref name="offset"/>: a view of the mapping, not a copy.</summary>
    public ReadOnlySpan<byte> Slice(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_start is null && Length > 0, this);
        if ((ulong)offset > (ulong)Length || (ulong)length > (ulong)(Length - offset))
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) is outside the file's {Length} bytes");
        }
        return length == 0 ? default : new ReadOnlySpan<byte>(_start + offset, length);
    }

    public void Dispose()
    {
        if (_start is null)
        {
            return;
        }
        _start = null;
        _view!.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file!.Dispose();
    }
}
