using System.Diagnostics;

namespace WeSeek.TestKit;

/// <summary>The id of a process of this machine that has just ended: a lease holder that died.</summary>
public static class ExitedProcess
{
    public static async Task<int> IdAsync(CancellationToken cancellationToken)
    {
        using var process = Process.Start(new ProcessStartInfo("dotnet", "--version") { RedirectStandardOutput = true })!;
        await process.WaitForExitAsync(cancellationToken);
        return process.Id;
    }
}
