using System.Net;
using Microsoft.Extensions.Configuration;
using WeSeek;
using WeSeek.Configuration;
using WeSeek.Plugins.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the HTTP API plugin.</summary>
public static class HttpPluginServiceCollectionExtensions
{
    /// <summary>True when section <c>Plugins:Http:Endpoints</c> names at least one endpoint.</summary>
    public static bool HasHttpPlugin(this IConfiguration configuration) =>
        configuration.GetSection("Plugins:Http:Endpoints").GetChildren().Any();

    /// <summary>
    /// Adds plugin <c>http</c> (section <c>Plugins:Http</c>), validated at start-up. Its HTTP client follows no
    /// redirects (a redirect would carry the endpoint's headers, secrets included, to another address) and logs
    /// nothing itself (the default handlers log URLs, which hold what users wrote): the plugin logs the endpoint's
    /// name, status and size.
    /// </summary>
    public static IWeSeekBuilder AddHttpPlugin(this IWeSeekBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSection<HttpPluginOptions>(builder.Configuration, "Plugins:Http");
        builder.Services.AddHttpClient(HttpPlugin.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None })
            .RemoveAllLoggers();
        return builder.AddPlugin<HttpPlugin>();
    }
}
