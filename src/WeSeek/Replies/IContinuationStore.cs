namespace WeSeek.Replies;

/// <summary>
/// The pages of a conversation's last long answer still waiting for 「继续」. A turn's completion writes them in
/// its own unit of work (<see cref="Pipeline.ITurnStore.CompleteAsync"/>), so a page is neither lost nor sent twice when a
/// turn runs again after a crash; this reads them. Decrypted on read. Thread-safe.
/// </summary>
internal interface IContinuationStore
{
    /// <summary>The waiting pages, in order, if they were stored after <paramref name="storedAfter"/>; else null.</summary>
    Task<IReadOnlyList<IReadOnlyList<string>>?> LoadAsync(string conversation, DateTimeOffset storedAfter, CancellationToken cancellationToken);
}
