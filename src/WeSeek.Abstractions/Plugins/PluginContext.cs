using WeSeek.Messaging;

namespace WeSeek.Plugins;

/// <summary>What a plugin sees of a turn. Immutable.</summary>
/// <param name="Message">The inbound message (its <see cref="InboundMessage.Text"/> is the question).</param>
/// <param name="ConversationKey">The conversation the turn belongs to.</param>
public sealed record PluginContext(InboundMessage Message, string ConversationKey)
{
    /// <summary>The message's text.</summary>
    public string Text => Message.Text;

    /// <summary>The intent recognised for this message, or null for plain chat (nothing recognised).</summary>
    public TurnIntent? Intent { get; init; }
}
