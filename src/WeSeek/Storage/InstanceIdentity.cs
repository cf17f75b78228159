namespace WeSeek.Storage;

/// <summary>
/// This process among the instances sharing a database: the owner recorded on the leases and claims it takes.
/// Host name, process id and a random part, so a restarted process (same host, perhaps the same pid in a
/// container) never mistakes its predecessor's leases for its own.
/// </summary>
internal sealed class InstanceIdentity
{
    public InstanceIdentity() => Id = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>For tests that play several instances in one process.</summary>
    public InstanceIdentity(string id) => Id = id;

    public string Id { get; }

    public override string ToString() => Id;
}
