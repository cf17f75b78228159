namespace WeSeek.Security;

/// <summary>One record of the audit chain as stored.</summary>
internal sealed record AuditRecord(long Id, long At, string Kind, string Data, string PreviousHash, string Hash);

/// <summary>The last record of the chain: what the next one links to.</summary>
internal readonly record struct AuditLink(long Id, string Hash);

/// <summary>
/// The audit log's records: append-only, one chain. The store keeps the chain single across every process on
/// the database; <see cref="AuditLog"/> decides what a record holds and how it is hashed. Thread-safe.
/// </summary>
internal interface IAuditStore
{
    /// <summary>
    /// Appends the record that <paramref name="next"/> makes from the last one (null when the log is empty).
    /// From reading the last record to the insert the chain is this call's alone, across every process sharing
    /// the database, so concurrent appends never fork it. Returns the record stored.
    /// </summary>
    Task<AuditRecord> AppendAsync(Func<AuditLink?, AuditRecord> next, CancellationToken cancellationToken);

    /// <summary>The data of the newest record of <paramref name="kind"/>, if any.</summary>
    Task<string?> LastDataAsync(string kind, CancellationToken cancellationToken);

    /// <summary>Every record, oldest first.</summary>
    IAsyncEnumerable<AuditRecord> ReadAllAsync(CancellationToken cancellationToken);
}
