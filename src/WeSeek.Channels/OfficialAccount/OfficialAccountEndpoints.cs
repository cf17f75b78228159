using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using WeSeek.Channels.OfficialAccount;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the 公众号 callbacks.</summary>
public static class OfficialAccountEndpoints
{
    /// <summary>Maps <c>GET</c> (URL verification) and <c>POST</c> (messages) at <c>/wechat/mp/{account}</c>.
    /// An unknown account is a 404.</summary>
    public static IEndpointRouteBuilder MapOfficialAccount(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        endpoints.MapGet("/wechat/mp/{account}", (string account, HttpRequest request) =>
            services.GetKeyedService<OfficialAccountChannel>(account) is { } channel ? channel.Verify(request) : Results.NotFound());
        endpoints.MapPost("/wechat/mp/{account}", (string account, HttpRequest request, CancellationToken cancellationToken) =>
            services.GetKeyedService<OfficialAccountChannel>(account) is { } channel ? channel.ReceiveAsync(request, cancellationToken) : Task.FromResult(Results.NotFound()));
        return endpoints;
    }
}
