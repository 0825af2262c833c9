using System.Diagnostics.Metrics;
using Eddy.Http;
using Eddy.Loop;
using Eddy.Tls;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Eddy.Hosting.Internal;

/// <summary>
/// The Eddy app as a hosted service: <see cref="StartAsync"/> builds a <see cref="ServerHost"/> from
/// <see cref="EddyServerOptions"/> and returns once every endpoint listens (a port in use fails the host's start);
/// <see cref="StopAsync"/> starts the graceful drain and waits for it, or for the host's shutdown timeout. The Generic
/// Host owns SIGINT/SIGTERM (its console lifetime), so the server host does not handle signals here.
/// </summary>
internal sealed class EddyHostedService(
    IOptions<EddyServerOptions> options,
    EddyApplication application,
    EddyServerAddresses addresses,
    IServiceProvider services,
    ILoggerFactory? loggerFactory = null) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TlsCertificate> _certificates = [];
    private Task<int>? _run;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        EddyServerOptions o = options.Value;
        HttpServerOptions http = o.Http;
        http.Services ??= services;
        http.MeterFactory ??= services.GetService<IMeterFactory>();
        ILogger? loopLogger = loggerFactory?.CreateLogger("Eddy.Loop");
        var host = new ServerHost(new ServerHostOptions
        {
            LoopCount = o.LoopCount,
            LoopOptions = i => new EventLoopOptions { Name = $"eddy-loop-{i}", Logger = loopLogger },
            DrainTimeout = o.DrainTimeout,
            MaxConnections = o.MaxConnections,
            DescriptorReserve = o.DescriptorReserve,
            HandleSignals = false,
            Logger = loggerFactory?.CreateLogger("Eddy.Hosting.ServerHost"),
        });
        RequestHandler app = application.Create(services);
        IEnumerable<EddyEndpointOptions> endpoints = o.Endpoints.Count > 0 ? o.Endpoints : [new EddyEndpointOptions { Url = "http://127.0.0.1:8080" }];
        foreach (EddyEndpointOptions endpoint in endpoints)
        {
            EndpointUrl url = EndpointUrl.Parse(endpoint.Url);
            if (!url.IsHttps)
            {
                host.ListenHttp(app, url.EndPoint, http);
                continue;
            }
            if (endpoint.CertificatePath is null || endpoint.KeyPath is null)
            {
                throw new InvalidOperationException($"Eddy endpoint '{endpoint.Url}' is https: it needs CertificatePath and KeyPath (PEM files).");
            }
            TlsCertificate certificate = TlsCertificate.FromPemFiles(endpoint.CertificatePath, endpoint.KeyPath, watch: true);
            _certificates.Add(certificate);
            var tls = new TlsServerOptions();
            tls.Certificates.Add(certificate);
            host.ListenHttps(app, url.EndPoint, tls, http);
        }
        _run = host.RunAsync(_stop.Token);
        // Started once every endpoint listens; a bind error (port in use) fails the Generic Host's start with it.
        addresses.Set(await host.Listening.WaitAsync(cancellationToken).ConfigureAwait(false));
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_run is null)
        {
            return;
        }
        _stop.Cancel(); // the drain: idle connections close now, requests in flight get DrainTimeout
        try
        {
            await _run.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host's own shutdown timeout came first: the drain goes on, cut at DrainTimeout, without us waiting.
        }
    }

    public void Dispose()
    {
        _stop.Dispose();
        foreach (TlsCertificate certificate in _certificates)
        {
            certificate.Dispose();
        }
    }
}

/// <summary>How the app's request handler is made from the host's services (registered once by AddEddy*).</summary>
internal sealed class EddyApplication(Func<IServiceProvider, RequestHandler> create)
{
    public RequestHandler Create(IServiceProvider services) => create(services);
}
