using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WeSeek.Health;

/// <summary>How an engine says whether it can answer now (a remote server answering, a model loaded).</summary>
internal interface IEngineReadiness
{
    Task<(bool Ready, string Description)> CheckAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Ready when an engine is configured and loaded: the <see cref="IChatClient"/> resolves (for the embedded
/// engine that is the model loaded) and, where the engine can say more (<see cref="IEngineReadiness"/>: a
/// remote server's <c>GET /models</c>), it says it answers.
/// </summary>
internal sealed class EngineHealthCheck : IHealthCheck
{
    private readonly IServiceProvider _services;

    public EngineHealthCheck(IServiceProvider services) => _services = services;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            if (_services.GetService<IChatClient>() is null)
            {
                return HealthCheckResult.Unhealthy("No engine is configured (Model:Provider).");
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException)
        {
            return HealthCheckResult.Unhealthy($"The engine did not load ({ex.GetType().Name}).");
        }

        if (_services.GetService<IEngineReadiness>() is { } readiness)
        {
            var (ready, description) = await readiness.CheckAsync(cancellationToken);
            return ready ? HealthCheckResult.Healthy(description) : HealthCheckResult.Unhealthy(description);
        }

        return HealthCheckResult.Healthy("The engine is loaded.");
    }
}
