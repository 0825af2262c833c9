using System.Net;
using Eddy.Http.Internal;
using Eddy.Loop;
using Eddy.Tls;
using Eddy.Transports;

namespace Eddy.Http;

/// <summary>Starts Eddy's HTTP/1.1 server on a loop, or on every loop of a <see cref="LoopGroup"/>.</summary>
public static class HttpServer
{
    /// <summary>Serves <paramref name="application"/> on <paramref name="endPoint"/> from <paramref name="loop"/>. Loop thread only.</summary>
    public static Server Listen(EventLoop loop, RequestHandler application, EndPoint endPoint, HttpServerOptions? options = null, int backlog = 511, bool reusePort = false)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(application);
        options ??= new HttpServerOptions();
        return Listen(loop, application, endPoint, options, tls: null, backlog, reusePort, CreateLimit(options));
    }

    /// <summary>Serves <paramref name="application"/> over HTTPS (HTTP/1.1 over TLS as <paramref name="tls"/> says) on
    /// <paramref name="endPoint"/> from <paramref name="loop"/>. Loop thread only.</summary>
    public static Server Listen(EventLoop loop, RequestHandler application, EndPoint endPoint, TlsServerOptions tls, HttpServerOptions? options = null, int backlog = 511, bool reusePort = false)
    {
        ArgumentNullException.ThrowIfNull(loop);
        ArgumentNullException.ThrowIfNull(application);
        ArgumentNullException.ThrowIfNull(tls);
        options ??= new HttpServerOptions();
        return Listen(loop, application, endPoint, options, tls, backlog, reusePort, CreateLimit(options));
    }

    private static Server Listen(EventLoop loop, RequestHandler application, EndPoint endPoint, HttpServerOptions options, TlsServerOptions? tls, int backlog, bool reusePort, ConnectionLimit? limit)
    {
        var heartbeat = new HttpHeartbeat(loop);
        HttpMetrics metrics = HttpMetrics.For(options.MeterFactory);
        Server server = tls is null
            ? loop.CreateServer(() => new HttpConnection(loop, application, options, heartbeat, metrics), endPoint, backlog, reusePort)
            : loop.CreateServer(() => new HttpConnection(loop, application, options, heartbeat, metrics), endPoint, tls, backlog, reusePort);
        server.ConnectionLimit = limit;
        return server;
    }

    private static ConnectionLimit? CreateLimit(HttpServerOptions options) =>
        options.MaxConnections is long max ? new ConnectionLimit(max) : null;

    /// <summary>Serves <paramref name="application"/> on every loop of a started <paramref name="group"/>, each with its own SO_REUSEPORT listener.</summary>
    public static Task<GroupServer> ListenAsync(LoopGroup group, RequestHandler application, EndPoint endPoint, HttpServerOptions? options = null, int backlog = 511)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(application);
        options ??= new HttpServerOptions();
        ConnectionLimit? limit = CreateLimit(options); // one limit shared by every loop's listener
        return group.CreateServerOnEachLoopAsync((loop, bindTo, reusePort) => Listen(loop, application, bindTo, options, tls: null, backlog, reusePort, limit), endPoint);
    }

    /// <summary>Serves <paramref name="application"/> over HTTPS on every loop of a started <paramref name="group"/>.</summary>
    public static Task<GroupServer> ListenAsync(LoopGroup group, RequestHandler application, EndPoint endPoint, TlsServerOptions tls, HttpServerOptions? options = null, int backlog = 511)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(application);
        ArgumentNullException.ThrowIfNull(tls);
        tls.Validate();
        options ??= new HttpServerOptions();
        ConnectionLimit? limit = CreateLimit(options);
        return group.CreateServerOnEachLoopAsync((loop, bindTo, reusePort) => Listen(loop, application, bindTo, options, tls, backlog, reusePort, limit), endPoint);
    }
}
