namespace WeSeek.Messaging;

/// <summary>
/// One message for a channel to send, read from the outbox.
/// </summary>
/// <param name="OutboxId">
/// The outbox row. It is the idempotency key: after a crash between sending and recording the send, the
/// same message is offered again with the same id, and a channel that can (WeCom's duplicate check, iLink's
/// client id, the web chat) must not show it twice.
/// </param>
/// <param name="Channel">The channel to send through.</param>
/// <param name="AccountId">The bot account to send as.</param>
/// <param name="ChatId">The chat to send to.</param>
/// <param name="Text">The text, already split to the channel's limits.</param>
/// <param name="InboxId">The inbound message this answers.</param>
/// <param name="Sequence">0-based position among the replies to that message.</param>
public sealed record OutboundMessage(
    long OutboxId,
    ChannelId Channel,
    string AccountId,
    string ChatId,
    string Text,
    long InboxId,
    int Sequence);
