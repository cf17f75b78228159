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
        var channels = endpoints.ServiceProvider.GetServices<WeComChannel>().ToDictionary(c => c.Name, StringComparer.Ordinal);
        endpoints.MapGet("/wechat/wecom/{app}", (string app, HttpRequest request) =>
            channels.TryGetValue(app, out var channel) ? channel.Verify(request) : Results.NotFound());
        endpoints.MapPost("/wechat/wecom/{app}", (string app, HttpRequest request, CancellationToken cancellationToken) =>
            channels.TryGetValue(app, out var channel) ? channel.ReceiveAsync(request, cancellationToken) : Task.FromResult(Results.NotFound()));
        return endpoints;
    }
}
