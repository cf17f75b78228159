using WeSeek.Messaging;

namespace WeSeek.Outbox;

/// <summary>A pending reply, its attempts so far, when it may next be tried, and when its message was stored.</summary>
internal sealed record OutboxEntry(OutboundMessage Message, int Attempts, DateTimeOffset NextAttemptAt, DateTimeOffset ReceivedAt, string? TraceParent = null)
{
    /// <summary>Until when a channel, on any instance, waits to answer this message passively.</summary>
    public DateTimeOffset HeldUntil { get; init; }
}

/// <summary>What <see cref="IOutboxStore.ClaimForSendAsync"/> found.</summary>
internal enum SendClaim
{
    /// <summary>This instance sends it now.</summary>
    Claimed,

    /// <summary>Sent, claimed for a passive reply, or being sent by another instance.</summary>
    Taken,

    /// <summary>The account's daily cap is reached (counted across every instance).</summary>
    CapReached,
}

/// <summary>
/// The outbox and the send counts: replies stored by turns (in the turn's unit of work, <c>ITurnStore</c>),
/// claimed and drained by <see cref="OutboxSender"/>, counted against the account's day. Thread-safe.
/// </summary>
internal interface IOutboxStore
{
    /// <summary>True where several instances share the store: the sender's in-memory last-send times are not the
    /// whole truth.</summary>
    bool Shared { get; }

    /// <summary>The oldest pending message of each chat (a chat's next message waits for it), oldest first.</summary>
    Task<IReadOnlyList<OutboxEntry>> GetHeadsAsync(int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the row for sending by this instance until <paramref name="until"/>, and for a rate-limited channel
    /// (<paramref name="day"/> set) counts it against the account's day at once, in the same transaction, only
    /// while the count is under <paramref name="cap"/>: instances sharing the database can never send more than
    /// the cap between them. A send that then fails gives the count back (<see cref="MarkFailedAttemptAsync"/>).
    /// </summary>
    Task<SendClaim> ClaimForSendAsync(OutboundMessage message, DateTimeOffset now, DateTimeOffset until, string? day, int cap, CancellationToken cancellationToken);

    /// <summary>True while the row is neither sent (also as a passive reply) nor given up.</summary>
    Task<bool> IsPendingAsync(long outboxId, CancellationToken cancellationToken);

    /// <summary>Whether any reply to an inbound message still waits to be sent.</summary>
    Task<bool> AnyPendingForAsync(long inboxId, CancellationToken cancellationToken);

    /// <summary>When the chat last got a message, if ever.</summary>
    Task<DateTimeOffset?> LastSentAtAsync(ChannelId channel, string account, string chatId, CancellationToken cancellationToken);

    /// <summary>Messages an account sent on <paramref name="day"/> (yyyy-MM-dd in the cap's time zone).</summary>
    Task<int> SentCountAsync(ChannelId channel, string account, string day, CancellationToken cancellationToken);

    /// <summary>Every account's sends on <paramref name="day"/> (yyyy-MM-dd in the cap's time zone), for the
    /// daily-cap gauge.</summary>
    Task<IReadOnlyList<(string Channel, string Account, long Count)>> SentCountsAsync(string day, CancellationToken cancellationToken);

    /// <summary>Marks a message sent and, for rate-limited channels, counts it against the day, atomically.</summary>
    Task MarkSentAsync(OutboundMessage message, DateTimeOffset sentAt, string? platformId, string? day, CancellationToken cancellationToken);

    /// <summary>Records a failed attempt: retried at <paramref name="retryAt"/>, or given up when null. A send
    /// counted at its claim (<paramref name="refundDay"/>) is taken off the day's count again.</summary>
    Task MarkFailedAttemptAsync(OutboundMessage message, string error, DateTimeOffset? retryAt, string? refundDay, CancellationToken cancellationToken);

    /// <summary>
    /// Claims up to <paramref name="max"/> of a chat's pending replies that no sender holds, marks them sent with
    /// <paramref name="platformId"/> and counts them against <paramref name="day"/>, in one transaction (a
    /// passive reply). Returns them, and when the messages of the first parts among them were received.
    /// </summary>
    Task<(IReadOnlyList<OutboundMessage> Claimed, IReadOnlyList<DateTimeOffset> FirstReceivedAt)> ClaimPassiveAsync(ChannelId channel, string accountId, string chatId, int max, DateTimeOffset now, string day, string platformId, CancellationToken cancellationToken);

    /// <summary>Replies not sent yet, by channel.</summary>
    Task<IReadOnlyList<(string Channel, long Count)>> PendingByChannelAsync(CancellationToken cancellationToken);

    /// <summary>Postpones a message without counting an attempt (daily cap reached).</summary>
    Task DeferAsync(long outboxId, DateTimeOffset until, CancellationToken cancellationToken);
}
