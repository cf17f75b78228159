namespace WeSeek.Messaging;

/// <summary>
/// A named lease with a time to live, so that exactly one process does something that must not run twice
/// (poll one iLink bot token: its cursor is a single stream). The holder renews it well before it expires; a
/// holder that dies stops renewing and another owner takes over after the TTL. Each call is atomic across
/// every process that shares the backing store (SQLite by default; Redis with the same contract when
/// instances do not share a disk). Thread-safe.
/// </summary>
public interface IChannelLease
{
    /// <summary>Takes <paramref name="name"/> for <paramref name="owner"/> until now + <paramref name="ttl"/>
    /// when it is free, expired, or already held by that owner. False when another owner holds it.</summary>
    ValueTask<bool> TryAcquireAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Extends a lease <paramref name="owner"/> holds to now + <paramref name="ttl"/>. False when it
    /// was lost (another owner took it after it expired): the caller must stop the guarded work.</summary>
    ValueTask<bool> RenewAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Gives the lease up if <paramref name="owner"/> holds it, so another owner need not wait for
    /// the TTL. Does nothing otherwise.</summary>
    ValueTask ReleaseAsync(string name, string owner, CancellationToken cancellationToken);
}
