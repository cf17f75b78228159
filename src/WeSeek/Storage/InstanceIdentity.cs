namespace WeSeek.Storage;

/// <summary>
/// This process among the instances sharing a database: the owner recorded on the leases and claims it takes.
/// On PostgreSQL: host name, process id and a random part, so a restarted process (same host, perhaps the same
/// pid in a container) never mistakes its predecessor's leases for its own; a dead instance's leases run out.
/// On SQLite, the embedded single-process store: one identity per database file, so a process restarted after
/// a crash takes its predecessor's leases and claims at once and answers what was in flight right away, as
/// before leases existed, instead of after the lease time.
/// </summary>
internal sealed class InstanceIdentity
{
    public InstanceIdentity() => Id = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    public static InstanceIdentity For(StorageOptions options) =>
        options.Provider == StorageProvider.Postgres ? new() : new("sqlite:" + Path.GetFullPath(options.DatabasePath));

    /// <summary>For tests that play several instances in one process.</summary>
    public InstanceIdentity(string id) => Id = id;

    public string Id { get; }

    public override string ToString() => Id;
}
