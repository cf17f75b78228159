namespace WeSeek.Security;

/// <summary>
/// The admin keys' rows: the SHA-256 of each key, never the key, with its name, role and times.
/// <see cref="AdminKeys"/> makes and checks keys and audits changes. Thread-safe.
/// </summary>
internal interface IAdminKeyStore
{
    /// <summary>Stores a new key's hash; returns its id.</summary>
    Task<long> AddAsync(string name, string prefix, string hash, AdminRole role, DateTimeOffset createdAt, CancellationToken cancellationToken);

    /// <summary>Every key, newest first, revoked ones included.</summary>
    Task<IReadOnlyList<AdminKeyInfo>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Whether any key is not revoked.</summary>
    Task<bool> AnyActiveAsync(CancellationToken cancellationToken);

    /// <summary>Revokes a key at <paramref name="at"/>; false when no such key exists or it was already revoked.</summary>
    Task<bool> RevokeAsync(long id, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>The active key with this hash, or null.</summary>
    Task<AdminKeyInfo?> FindActiveAsync(string hash, CancellationToken cancellationToken);

    /// <summary>Records when a key was last used.</summary>
    Task TouchAsync(long id, DateTimeOffset at, CancellationToken cancellationToken);
}
