namespace WeSeek.Messaging;

/// <summary>
/// For channels whose platform takes an answer in the response to its own request (WeChat's passive reply,
/// which must come within 5 s): wait a bounded time for a turn, then take its stored replies out of the
/// outbox instead of sending them through the platform's API. Implemented by the core over the outbox, so a
/// claimed reply is counted against the daily cap like any send and is never also sent by the outbox sender.
/// Thread-safe. A channel still sees only stored replies, never the model.
/// </summary>
public interface IReplyClaims
{
    /// <summary>
    /// Waits up to <paramref name="timeout"/> (on the host's TimeProvider) for the turn of
    /// <paramref name="inboxId"/> to store its replies, holding them back from the outbox sender meanwhile;
    /// then claims at most <paramref name="max"/> of the chat's oldest unsent replies as
    /// <see cref="ClaimAsync"/> does. Empty when the time passed first: the sender then delivers them.
    /// </summary>
    Task<IReadOnlyList<OutboundMessage>> WaitAndClaimAsync(long inboxId, ChannelId channel, string accountId, string chatId, int max, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Takes at most <paramref name="max"/> of the chat's oldest unsent replies, in order, and marks
    /// them sent. Atomic against the outbox sender: a reply is either claimed here or sent there, once.</summary>
    Task<IReadOnlyList<OutboundMessage>> ClaimAsync(ChannelId channel, string accountId, string chatId, int max, CancellationToken cancellationToken);

    /// <summary>Waits up to <paramref name="timeout"/> for the turn of <paramref name="inboxId"/> to store its
    /// result, without holding its replies. True when it has (a typing indicator can stop being renewed).</summary>
    Task<bool> WaitForTurnAsync(long inboxId, TimeSpan timeout, CancellationToken cancellationToken);
}
