namespace WeSeek.Storage;

/// <summary>How the background loops ride out a database that went away: pause, then try again. Nothing is
/// lost meanwhile: what was stored stays stored, and what was not stored was not acknowledged (the platform
/// delivers it again).</summary>
internal static class StorageOutage
{
    /// <summary>2 s: short against WeChat's 5 s callback window and a PostgreSQL restart (seconds), long enough
    /// not to flood the log or the server while it is down.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    public static Task PauseAsync(TimeProvider time, CancellationToken cancellationToken) =>
        Task.Delay(RetryDelay, time, cancellationToken);
}
