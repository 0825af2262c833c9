namespace Eddy.Selectors;

/// <summary>What a registration waits for, and what a <see cref="SelectorEvent"/> reports as ready.</summary>
[Flags]
public enum Interest
{
    None = 0,

    /// <summary>Readable: data, end of stream, an error, or (on a listener) a pending connection.</summary>
    Read = 1,

    /// <summary>Writable: room in the send buffer, a finished connect, or an error.</summary>
    Write = 2,

    ReadWrite = Read | Write,
}
