namespace Eddy.Selectors;

/// <summary>What a registration waits for, and what a <see cref="SelectorEvent"/> reports as ready.</summary>
[Flags]
public enum Interest
{
    /// <summary>Nothing. <see cref="Selector.Register"/> and <see cref="Selector.Modify(int, Interest)"/> refuse it, and no <see cref="SelectorEvent"/> carries it.</summary>
    None = 0,

    /// <summary>Readable: data, end of stream, an error, or (on a listener) a pending connection.</summary>
    Read = 1,

    /// <summary>Writable: room in the send buffer, a finished connect, or an error.</summary>
    Write = 2,

    /// <summary>Both <see cref="Read"/> and <see cref="Write"/>; also how an error or hang-up is reported to a key that has both.</summary>
    ReadWrite = Read | Write,
}
