using WeSeek.Messaging;

namespace WeSeek.Plugins;

/// <summary>
/// Which plugins are on in which chat. A chat without a setting for a plugin has it on, unless the plugin is in
/// <c>Plugins:OffByDefault</c>. Thread-safe.
/// </summary>
internal interface IPluginSettingsStore
{
    /// <summary>A chat's key: the same for everyone in a group, so a group's settings are the group's.</summary>
    static string ChatKey(InboundMessage message) => $"{message.Channel}/{message.AccountId}/{message.ChatId}";

    /// <summary>Whether each plugin is on in the chat, by plugin name (case-insensitive).</summary>
    Task<IReadOnlyDictionary<string, bool>> GetAsync(string chat, IEnumerable<IWeSeekPlugin> plugins, CancellationToken cancellationToken);

    /// <summary>Turns a plugin on or off in a chat.</summary>
    Task SetAsync(string chat, string plugin, bool enabled, CancellationToken cancellationToken);
}
