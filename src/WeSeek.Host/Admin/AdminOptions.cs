namespace WeSeek.Host.Admin;

/// <summary>The admin API and console (<c>/admin</c>, and the iLink login under <c>/api/ilink</c>). Section <c>Admin</c>.</summary>
public sealed class AdminOptions
{
    /// <summary>
    /// Every admin request must carry an API key (<c>Authorization: Bearer wsk_…</c>) made with
    /// <c>weseek admin key create</c>. Default true. Turning it off leaves only the address allow-list
    /// (<c>Access:Groups:admin</c>, loopback by default) between the network and the console.
    /// </summary>
    public bool RequireKey { get; set; } = true;

    /// <summary>
    /// The largest document the console accepts for the knowledge base, in bytes. Default 20 MiB: a few hundred
    /// pages of PDF, more than a FAQ or a manual needs, and small enough to hold in memory while it is read.
    /// Larger files go in with <c>weseek kb add</c> on the server.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 20L * 1024 * 1024;
}
