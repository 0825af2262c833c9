using Eddy.Hosting.Internal;
using Eddy.Http;
using Eddy.Web;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Eddy.Hosting;

/// <summary>
/// Runs an Eddy app in the .NET Generic Host (<c>Host.CreateApplicationBuilder</c>) as a hosted service: it starts
/// with the host (every endpoint listening before the host reports started), stops with it (a graceful drain of
/// <see cref="EddyServerOptions.DrainTimeout"/>), logs through the host's <c>ILoggerFactory</c> ("Eddy.Hosting.*",
/// "Eddy.Loop"), measures through its <c>IMeterFactory</c>, and gives handlers the host's services as
/// <see cref="HttpContext.Services"/>.
/// <code>
/// var builder = Host.CreateApplicationBuilder(args);
/// builder.Services.AddSingleton&lt;Greeter&gt;();
/// builder.Services.AddEddyWebApp((app, services) =&gt;
///     app.MapGet("/hello", ctx =&gt; ctx.Response.Text(ctx.Services.GetRequiredService&lt;Greeter&gt;().Hello())));
/// await builder.Build().RunAsync();
/// </code>
/// </summary>
public static class EddyServiceCollectionExtensions
{
    /// <summary>Name of the configuration section <see cref="EddyServerOptions"/> is bound from.</summary>
    public const string ConfigurationSection = "Eddy";

    extension(IServiceCollection services)
    {
        /// <summary>
        /// Serves a <see cref="WebApp"/> that <paramref name="configure"/> maps (with the host's services at hand) once
        /// the host starts. Returns the options builder, to set <see cref="EddyServerOptions"/> in code after the
        /// configuration section "Eddy". One app per host.
        /// </summary>
        public OptionsBuilder<EddyServerOptions> AddEddyWebApp(Action<WebApp, IServiceProvider> configure)
        {
            ArgumentNullException.ThrowIfNull(configure);
            return services.AddEddy(provider =>
            {
                var app = new WebApp();
                configure(app, provider);
                return app.Build();
            });
        }

        /// <summary>Serves the request handler that <paramref name="application"/> makes from the host's services. One app per host.</summary>
        public OptionsBuilder<EddyServerOptions> AddEddy(Func<IServiceProvider, RequestHandler> application)
        {
            ArgumentNullException.ThrowIfNull(application);
            if (services.Any(d => d.ServiceType == typeof(EddyApplication)))
            {
                throw new InvalidOperationException("An Eddy app is already added to these services: one AddEddy or AddEddyWebApp per host.");
            }
            services.AddSingleton(new EddyApplication(application));
            services.AddSingleton<EddyServerAddresses>();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, EddyHostedService>());
            OptionsBuilder<EddyServerOptions> options = services.AddOptions<EddyServerOptions>();
            // The section when the host has configuration (Host.CreateApplicationBuilder does); none is fine too.
            options.Configure<IServiceProvider>((o, provider) =>
                (provider.GetService(typeof(IConfiguration)) as IConfiguration)?.GetSection(ConfigurationSection).Bind(o));
            return options;
        }
    }
}
