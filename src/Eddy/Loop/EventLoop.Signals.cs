using System.Runtime.InteropServices;

namespace Eddy.Loop;

// Signal handlers that run on the loop (asyncio's add_signal_handler), over PosixSignalRegistration.
public sealed partial class EventLoop
{
    private readonly Dictionary<PosixSignal, PosixSignalRegistration> _signalHandlers = [];

    /// <summary>
    /// Runs <paramref name="callback"/> on the loop thread each time <paramref name="signal"/> arrives,
    /// instead of the signal's default action (so SIGINT/SIGTERM no longer end the process: the handler
    /// decides, e.g. a graceful shutdown). Replaces an earlier handler for the same signal. Loop thread only.
    /// </summary>
    public void AddSignalHandler(PosixSignal signal, Action<object?> callback, object? state = null)
    {
        ArgumentNullException.ThrowIfNull(callback);
        CheckLoopCall(nameof(AddSignalHandler));
        RemoveSignalHandler(signal);
        // The runtime calls this on its signal-handling thread: hop to the loop.
        _signalHandlers[signal] = PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true;
            if (!_closed)
            {
                try
                {
                    CallSoonThreadSafe(callback, state);
                }
                catch (ObjectDisposedException)
                {
                    // Close ran between the check and the call. The runtime may run a handler after its
                    // registration is disposed, and what a handler throws here would crash the process.
                }
            }
        });
    }

    /// <summary>Removes the handler for <paramref name="signal"/>, restoring its default action; returns whether there was one.</summary>
    public bool RemoveSignalHandler(PosixSignal signal)
    {
        if (!_signalHandlers.Remove(signal, out PosixSignalRegistration? registration))
        {
            return false;
        }
        registration.Dispose();
        return true;
    }

    private void CloseSignalHandlers()
    {
        foreach (PosixSignalRegistration registration in _signalHandlers.Values)
        {
            registration.Dispose();
        }
        _signalHandlers.Clear();
    }
}
