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
}
