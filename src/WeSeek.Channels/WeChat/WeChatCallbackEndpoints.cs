using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace WeSeek.Channels.WeChat;

/// <summary>A channel whose account answers WeChat callbacks at a URL ending in its name.</summary>
internal interface IWeChatCallbackChannel
{
    /// <summary>The account's callback.</summary>
    WeChatCallbackEndpoint Callback { get; }
}

/// <summary>Maps the callbacks of every account of one WeChat channel type.</summary>
internal static class WeChatCallbackEndpoints
{
    /// <summary>Maps <c>GET</c> (URL verification) and <c>POST</c> (messages) at <paramref name="pattern"/>,
    /// whose <c>{name}</c> is the account's name: the key of its <typeparamref name="TChannel"/> singleton.
    /// An unknown name is a 404.</summary>
    public static IEndpointRouteBuilder MapWeChatCallback<TChannel>(this IEndpointRouteBuilder endpoints, string pattern)
        where TChannel : class, IWeChatCallbackChannel
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        endpoints.MapGet(pattern, (string name, HttpRequest request) =>
            services.GetKeyedService<TChannel>(name) is { } channel ? channel.Callback.Verify(request) : Results.NotFound());
        endpoints.MapPost(pattern, (string name, HttpRequest request, CancellationToken cancellationToken) =>
            services.GetKeyedService<TChannel>(name) is { } channel ? channel.Callback.ReceiveAsync(request, cancellationToken) : Task.FromResult(Results.NotFound()));
        return endpoints;
    }
}
