using WeSeek.Conversations;
using WeSeek.Messaging;
using WeSeek.Security;

namespace WeSeek.Inbox;

/// <summary>One message to store, with the conversation it belongs to.</summary>
internal sealed record InboxRow(InboundMessage Message, string Conversation);

/// <summary>
/// The inbox's rows: messages stored once each (a platform's retry, to any instance, is a duplicate), held for a
/// passive reply where the channel waits for one, and counted for quotas. Bodies are encrypted at rest.
/// Thread-safe.
/// </summary>
internal interface IInboxStore
{
    /// <summary>
    /// Stores <paramref name="batch"/> in one transaction, committed before it returns: each message is
    /// <see cref="AcceptOutcome.Stored"/>, or a <see cref="AcceptOutcome.Duplicate"/> of the row already there
    /// (whose passive-reply hold is extended to this delivery's). <paramref name="beforeCommit"/> hears each
    /// result (by its index in the batch) before any other reader can see the rows.
    /// </summary>
    Task<IReadOnlyList<AcceptResult>> StoreAsync(IReadOnlyList<InboxRow> batch, DateTimeOffset now, Action<int, AcceptResult>? beforeCommit, CancellationToken cancellationToken);

    /// <summary>Messages of <paramref name="channel"/> whose <paramref name="column"/> (sender_id or chat_id) is
    /// <paramref name="value"/>, stored since <paramref name="since"/>, up to and including <paramref name="upTo"/>;
    /// only in the chat <paramref name="chatId"/> when given.</summary>
    Task<long> CountSinceAsync(ChannelId channel, string column, string value, DateTimeOffset since, long upTo, string? chatId, CancellationToken cancellationToken);

    /// <summary>The newest group messages of <paramref name="message"/>'s group before <paramref name="beforeInboxId"/>
    /// (at most <paramref name="limit"/>, looking at no more than the latest <paramref name="scan"/>), received
    /// since <paramref name="since"/>, that are not questions of <paramref name="conversation"/>, oldest first.</summary>
    Task<IReadOnlyList<GroupLine>> ReadGroupWindowAsync(InboundMessage message, long beforeInboxId, string conversation, DateTimeOffset since, int limit, int scan, CancellationToken cancellationToken);

    /// <summary>Messages stored and not answered yet, by channel.</summary>
    Task<IReadOnlyList<(string Channel, long Count)>> PendingByChannelAsync(CancellationToken cancellationToken);

    /// <summary>Every stored message, or those of one conversation: each inbound message, then the replies to it;
    /// their texts decrypted when <paramref name="decrypt"/>.</summary>
    IAsyncEnumerable<TranscriptLine> ReadTranscriptAsync(string? conversation, bool decrypt, CancellationToken cancellationToken);

    /// <summary>True when the message's turn is finished (done or failed), false while it is pending or unknown.</summary>
    Task<bool> IsFinishedAsync(long inboxId, CancellationToken cancellationToken);

    /// <summary>Ends the message's passive-reply hold, so that every instance's sender takes what was not claimed,
    /// and tells the other instances. False when there was no hold.</summary>
    Task<bool> ReleaseHoldAsync(long inboxId, CancellationToken cancellationToken);
}
