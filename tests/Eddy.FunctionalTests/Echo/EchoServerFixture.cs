using System.Net;
using Eddy.Cli.Echo;

namespace Eddy.FunctionalTests.Echo;

/// <summary>Runs one echo implementation on 127.0.0.1:0 on its own thread for the duration of a test.</summary>
internal sealed class RunningEchoServer : IDisposable
{
    private readonly IEchoServer _server;
    private readonly Thread _thread;
    private Exception? _failure;

    public RunningEchoServer(string impl)
    {
        _server = EchoCommand.Create(impl, new IPEndPoint(IPAddress.Loopback, 0), new EchoOptions(Log: TextWriter.Null));
        _thread = new Thread(() =>
        {
            try
            {
                _server.Serve();
            }
            catch (Exception e)
            {
                _failure = e;
            }
        })
        { IsBackground = true, Name = $"echo-{impl}" };
        _thread.Start();
    }

    public IPEndPoint EndPoint => _server.LocalEndPoint;

    public void Dispose()
    {
        _server.Stop();
        bool stopped = _thread.Join(TimeSpan.FromSeconds(10));
        Assert.True(stopped, "the echo server did not stop within 10 s");
        Assert.Null(_failure);
    }
}
