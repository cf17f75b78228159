using WeSeek.Messaging;
using WeSeek.Replies;

namespace WeSeek.Pipeline;

/// <summary>A stored inbound message ready for a turn.</summary>
internal sealed record PendingTurn(long InboxId, string Conversation, int Attempts, InboundMessage Message)
{
    /// <summary>Later messages of the same burst folded into <see cref="Message"/>; done when this turn is.</summary>
    public IReadOnlyList<long> Merged { get; init; } = [];
}

/// <summary>A message to append to a conversation's history when its turn completes.</summary>
internal sealed record HistoryAppend(string Role, string Content, int Tokens);

/// <summary>
/// The dispatcher's side of the inbox. A turn's results (replies, history, the inbox state) are written in
/// one transaction by <see cref="CompleteAsync"/>: either all of it is stored or none, so a crash during a
/// turn means the turn runs again after restart, and never that a reply is stored twice (the outbox key is
/// (inbox id, sequence)). Thread-safe.
/// </summary>
internal interface ITurnStore
{
    /// <summary>
    /// The oldest due pending message of each conversation not in <paramref name="busy"/>, oldest first, at
    /// most <paramref name="limit"/>. Only the oldest of a conversation: the next one waits for it, which is
    /// what keeps a conversation in order even when its oldest message is waiting for a retry. A question in a
    /// group is due only when <paramref name="burstWindow"/> has passed since it was stored, and then carries the
    /// asker's later messages in that group within the window (a burst: "@bot 帮我看看", "这段代码", "为什么报错")
    /// as one turn. Each of them was stored when it arrived; they are merged here, when the turn is leased, and
    /// marked done with it, so a restart before then loses none of them. <paramref name="held"/> hears when
    /// each question held back becomes due.
    /// <para>Each returned message is leased to this instance (<see cref="DispatcherOptions.LeaseTime"/>,
    /// renewed by <see cref="RenewLeasesAsync"/>): instances sharing the database never run one message at once,
    /// and since only a conversation's oldest pending message is ever leased, a conversation runs one turn at a
    /// time across all of them, in arrival order. The lease is taken by a conditional UPDATE (pending, and
    /// unleased, expired or already ours), which PostgreSQL re-checks after the row lock, so two instances racing
    /// for a message get it once; a dead instance's lease runs out and the message is taken over.</para>
    /// </summary>
    Task<IReadOnlyList<PendingTurn>> LeaseAsync(IReadOnlySet<string> busy, int limit, CancellationToken cancellationToken, TimeSpan burstWindow = default, Action<DateTimeOffset>? held = null);

    /// <summary>Extends this instance's leases on the messages it is running (<paramref name="inboxIds"/>).</summary>
    Task RenewLeasesAsync(IReadOnlyCollection<long> inboxIds, CancellationToken cancellationToken);

    /// <summary>Gives up this instance's leases on messages it did not finish (shutdown): another instance may take
    /// them at once instead of after the lease time.</summary>
    Task ReleaseLeasesAsync(CancellationToken cancellationToken);

    /// <summary>When the earliest waiting retry becomes due, if any.</summary>
    Task<DateTimeOffset?> NextRetryAsync(CancellationToken cancellationToken);

    /// <summary>Stores the turn's replies, history and waiting pages and marks the message done, atomically.
    /// Returns false, storing nothing, when the message is no longer pending: another instance took it over (this
    /// one's lease ran out) and completed it first; its answer stands, and this one is dropped.</summary>
    Task<bool> CompleteAsync(PendingTurn turn, IReadOnlyList<string> replies, IReadOnlyList<HistoryAppend> history, bool failed, string? error, CancellationToken cancellationToken, ContinuationFeature? continuation = null);

    /// <summary>Records a failed attempt; the message stays pending until <paramref name="retryAt"/>.</summary>
    Task RecordFailureAsync(long inboxId, string error, DateTimeOffset retryAt, CancellationToken cancellationToken);
}
