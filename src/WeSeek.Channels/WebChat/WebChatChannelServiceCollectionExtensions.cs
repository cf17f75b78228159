using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using WeSeek;
using WeSeek.Channels;
using WeSeek.Channels.WebChat;
using WeSeek.Messaging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the web chat channel.</summary>
public static class WebChatChannelServiceCollectionExtensions
{
    /// <summary>Adds the web chat channel (section <c>WebChat</c>); map it with <c>MapWebChat()</c>.</summary>
    public static IWeSeekBuilder AddWebChat(this IWeSeekBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<WebChatOptions>()
            .Bind(builder.Configuration.GetSection("WebChat"))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<WebChatOptions>>(new ChannelOptionsValidator<WebChatOptions>("WebChat"));
        builder.Services.TryAddSingleton<WebChatChannel>();
        builder.Services.TryAddSingleton<WebChatPasswordGate>();
        builder.Services.AddSingleton<IChannel>(sp => sp.GetRequiredService<WebChatChannel>());
        return builder;
    }
}
