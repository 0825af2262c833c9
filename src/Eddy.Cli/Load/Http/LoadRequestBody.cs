using System.Text;
using Eddy.Interop;

namespace Eddy.Cli.Load.Http;

/// <summary>
/// What <c>--body</c> gives: text or a small file, formatted into every request once before the run
/// (<see cref="Inline"/>), or a file larger than <see cref="StreamAbove"/>, mapped read-only and sent from the
/// mapping by every connection at its own offset (<see cref="Streamed"/>), so a body of any size costs no
/// managed memory. Disposing unmaps the file: only once the run is over.
/// </summary>
internal sealed class LoadRequestBody : IDisposable
{
    /// <summary>A file up to this size is read and formatted into the request (as a text body always is); a larger one is streamed.</summary>
    public const int StreamAbove = 64 * 1024;

    private LoadRequestBody(byte[] inline, MappedFile? streamed)
    {
        Inline = inline;
        Streamed = streamed;
    }

    /// <summary>The body's bytes, when it is sent from memory (empty when there is none, or when it is <see cref="Streamed"/>).</summary>
    public byte[] Inline { get; }

    /// <summary>The mapped file, when the body is sent from it.</summary>
    public MappedFile? Streamed { get; }

    /// <summary>The body's size: its requests' Content-Length.</summary>
    public long Length => Streamed?.Length ?? Inline.Length;

    /// <summary>
    /// Reads <c>--body</c>: null for none, <c>@FILE</c> for a file's bytes, anything else for that text in UTF-8.
    /// A file that cannot be seeked (a pipe) is read whole, as its size is known only at its end.
    /// </summary>
    /// <exception cref="UserError">The file cannot be opened, read or mapped.</exception>
    public static LoadRequestBody Read(string? text)
    {
        if (text is null)
        {
            return new LoadRequestBody([], null);
        }
        if (!text.StartsWith('@'))
        {
            return new LoadRequestBody(Encoding.UTF8.GetBytes(text), null);
        }
        try
        {
            using var file = new FileStream(text[1..], FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            if (file.CanSeek && file.Length > StreamAbove)
            {
                return new LoadRequestBody([], MappedFile.Map(file.SafeFileHandle));
            }
            var bytes = new MemoryStream();
            file.CopyTo(bytes);
            return new LoadRequestBody(bytes.ToArray(), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new UserError($"--body {text}: {e.Message}");
        }
    }

    public void Dispose() => Streamed?.Dispose();
}
