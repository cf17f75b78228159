using Microsoft.Extensions.Hosting;

namespace WeSeek.Storage;

/// <summary>Opens the database when the host starts, so that a wrong connection string, an unreachable or
/// read-only database, or a schema from a newer build stops start-up with one line naming the setting
/// (<see cref="StorageStartupException"/>) instead of failing the first message.</summary>
internal sealed class StorageStartup : IHostedService
{
    private readonly StoreDatabase _database;

    public StorageStartup(StoreDatabase database) => _database = database;

    public Task StartAsync(CancellationToken cancellationToken) => _database.EnsureReadyAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
