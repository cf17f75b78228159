using Microsoft.Extensions.Diagnostics.HealthChecks;
using WeSeek.Storage;

namespace WeSeek.Health;

/// <summary>Ready when the database opens and answers a query that reads its schema.</summary>
internal sealed class StorageHealthCheck : IHealthCheck
{
    private readonly StoreDatabase _database;

    public StorageHealthCheck(StoreDatabase database) => _database = database;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await _database.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy("The database answers.");
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // The type only: a storage exception's message can carry a path or SQL, not a secret, but keep it short.
            return HealthCheckResult.Unhealthy($"The database does not answer ({ex.GetType().Name}).");
        }
    }
}
