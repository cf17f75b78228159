using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace WeSeek;

/// <summary>
/// Returned by <c>AddWeSeek</c>, as YARP's <c>IReverseProxyBuilder</c>: channels, engines and plugins add
/// themselves through extension methods on it (<c>AddWebChat()</c>, <c>AddRemoteEngine()</c>).
/// </summary>
public interface IWeSeekBuilder
{
    /// <summary>The host's services.</summary>
    IServiceCollection Services { get; }

    /// <summary>The host's configuration (appsettings.json, <c>WESEEK__</c> environment variables, flags).</summary>
    IConfiguration Configuration { get; }
}
