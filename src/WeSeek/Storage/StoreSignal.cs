namespace WeSeek.Storage;

/// <summary>What one instance tells the others sharing the database, on commit (PostgreSQL NOTIFY; nothing on
/// SQLite, whose one process signals itself in memory). Each is a hint that makes another instance look now
/// instead of at its next poll; none is needed for correctness.</summary>
internal enum StoreSignal
{
    /// <summary>A message was stored: dispatchers look for work.</summary>
    InboxStored,

    /// <summary>A turn stored its replies (payload: the inbox id): a channel waiting to answer passively claims
    /// them, and senders look for work.</summary>
    TurnCompleted,

    /// <summary>A passive-reply hold ended (payload: the inbox id): senders look for work.</summary>
    HoldReleased,
}
