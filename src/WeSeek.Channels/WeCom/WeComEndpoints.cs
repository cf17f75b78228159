using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.Channels.WeCom;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the 企业微信 callbacks.</summary>
public static class WeComEndpoints
{
    /// <summary>Maps <c>GET</c> (URL verification) and <c>POST</c> (messages) at <c>/wechat/wecom/{app}</c>.
    /// An unknown app is a 404.</summary>
    public static IEndpointRouteBuilder MapWeCom(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        endpoints.MapGet("/wechat/wecom/{app}", (string app, HttpRequest request) =>
            services.GetKeyedService<WeComChannel>(app) is { } channel ? channel.Verify(request) : Results.NotFound());
        endpoints.MapPost("/wechat/wecom/{app}", (string app, HttpRequest request, CancellationToken cancellationToken) =>
            services.GetKeyedService<WeComChannel>(app) is { } channel ? channel.ReceiveAsync(request, cancellationToken) : Task.FromResult(Results.NotFound()));
        return endpoints;
    }
}
