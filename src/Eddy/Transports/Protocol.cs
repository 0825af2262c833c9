namespace Eddy.Transports;

/// <summary>
/// The callbacks of a stream connection (asyncio's <c>Protocol</c>): the transport calls them on the
/// loop thread, in this order:
/// <code>
/// start -> ConnectionMade [-> DataReceived*] [-> EofReceived?] -> ConnectionLost -> end
/// </code>
/// <see cref="PauseWriting"/> and <see cref="ResumeWriting"/> may come between
/// <see cref="ConnectionMade"/> and <see cref="ConnectionLost"/>, alternating, starting with a pause.
/// Every method has an empty default, so a protocol overrides only what it needs.
/// </summary>
public abstract class Protocol
{
    /// <summary>The connection is up; keep <paramref name="transport"/> to write to it.</summary>
    public virtual void ConnectionMade(Transport transport)
    {
    }

    /// <summary>
    /// Bytes arrived. <paramref name="data"/> is valid only during this call (it points into the loop's
    /// shared read buffer, which saves a copy per read): copy what you keep.
    /// </summary>
    public virtual void DataReceived(ReadOnlySpan<byte> data)
    {
    }

    /// <summary>
    /// The peer closed its side (it will send no more). Return true to keep the connection open for
    /// writing (half-close: the answer can still be sent, then call <see cref="Transport.Close"/>);
    /// false (the default) closes the transport.
    /// </summary>
    public virtual bool EofReceived() => false;

    /// <summary>The connection is gone: <paramref name="error"/> is null after a normal close, else why it failed. Called exactly once.</summary>
    public virtual void ConnectionLost(Exception? error)
    {
    }

    /// <summary>The transport's write buffer went over its high-water mark: stop producing until <see cref="ResumeWriting"/>.</summary>
    public virtual void PauseWriting()
    {
    }

    /// <summary>The transport's write buffer drained to its low-water mark: writing may go on.</summary>
    public virtual void ResumeWriting()
    {
    }

    /// <summary>
    /// The server that accepted this connection is shutting down (<see cref="Server.ShutdownAsync"/>): finish
    /// the work in flight, then close. The default closes the transport at once (buffered data is still sent);
    /// a request/response protocol overrides it to close when the current exchange is done.
    /// </summary>
    public virtual void ShutdownRequested(Transport transport) => transport.Close();
}
