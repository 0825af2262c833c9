using Eddy.Http.Internal;
using Eddy.Transports;

namespace Eddy.WebSockets.Internal;

/// <summary>
/// The transport's protocol after the upgrade: forwards the transport's callbacks and the heartbeat to its
/// <see cref="WebSocketConnection"/>, which keeps <see cref="Protocol"/>'s members out of its public surface.
/// </summary>
internal sealed class WebSocketProtocol(WebSocketConnection connection) : UpgradedProtocol, IHeartbeatClient
{
    public override void ConnectionMade(Transport transport) => connection.OnConnectionMade(transport);

    public override void DataReceived(ReadOnlySpan<byte> data) => connection.OnDataReceived(data);

    public override bool EofReceived() => connection.OnEofReceived();

    public override void ConnectionLost(Exception? error) => connection.OnConnectionLost(error);

    public override void PauseWriting() => connection.OnPauseWriting();

    public override void ResumeWriting() => connection.OnResumeWriting();

    public override void ShutdownRequested(Transport transport) => connection.OnShutdownRequested();

    internal override void HandlerCompleted(Exception? error) => connection.OnHandlerCompleted(error);

    public void OnHeartbeat(long now) => connection.OnHeartbeat(now);
}
