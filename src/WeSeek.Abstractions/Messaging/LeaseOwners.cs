using System.Diagnostics;

namespace WeSeek.Messaging;

/// <summary>
/// Owner names for <see cref="IChannelLease"/>: <c>machine:process id:random</c>, so that a restarted process is a new
/// owner, and a store whose processes all run on one machine (SQLite) can tell that a holder's process is gone.
/// </summary>
public static class LeaseOwners
{
    /// <summary>A new owner name for this process.</summary>
    public static string ForThisProcess() => $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    /// <summary>
    /// True when <paramref name="owner"/> names a process of this machine that no longer runs (killed, crashed). False
    /// for any other name, for this process, and whenever it cannot tell: a lease is then left to its TTL. A process id
    /// reused since is taken as alive, which errs on the side of waiting.
    /// </summary>
    public static bool IsGoneFromThisMachine(string owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var parts = owner.Split(':');
        if (parts.Length != 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], out var id) || id == Environment.ProcessId)
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(id);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true; // No process has that id.
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
