namespace WeSeek.Messaging;

/// <summary>
/// A message from a user, normalised by its channel. Immutable; the inbox stores it as is.
/// </summary>
/// <param name="Channel">The channel that received it.</param>
/// <param name="AccountId">The bot account on that channel (an Official Account's AppID, a WeCom app, <c>local</c>).</param>
/// <param name="ExternalMessageId">The platform's id for this message; duplicates are recognised by (channel, this id).</param>
/// <param name="ChatId">The chat the answer goes to: a user in a private chat, or the group.</param>
/// <param name="SenderId">Who wrote it; equal to <paramref name="ChatId"/> in private chats.</param>
/// <param name="Text">The text, or the channel's text rendering of a non-text message.</param>
/// <param name="SentAt">When the platform says it was sent.</param>
public sealed record InboundMessage(
    ChannelId Channel,
    string AccountId,
    string ExternalMessageId,
    string ChatId,
    string SenderId,
    string Text,
    DateTimeOffset SentAt)
{
    /// <summary>True in group chats, where context may be shared by the group or kept per member.</summary>
    public bool IsGroup { get; init; }

    /// <summary>What kind of message this was on the platform. Default <see cref="MessageKind.Text"/>.</summary>
    public MessageKind Kind { get; init; } = MessageKind.Text;

    /// <summary>Pictures, voice notes and files that came with the message, stored with it. Default none.</summary>
    public IReadOnlyList<MediaAttachment> Attachments { get; init; } = [];

    /// <summary>
    /// Set by channels that answer in the platform's own request (WeChat's passive reply): from the moment the
    /// inbox stores the message, its replies are held back from the outbox sender for at most this long, or
    /// until the channel claims them through <see cref="IReplyClaims"/>. Without it, a turn that finishes
    /// before the channel starts waiting would go out through the platform's API instead. Not stored.
    /// </summary>
    public TimeSpan? PassiveReplyWindow { get; init; }

    /// <summary>The W3C trace context (<c>traceparent</c>) of the request that delivered the message, stored
    /// with it so the turn and the sends that answer it join the same trace. Set by the inbox.</summary>
    public string? TraceParent { get; init; }
}
