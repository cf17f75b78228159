using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WeSeek.Channels.OneBot;

/// <summary>What the OneBot 12 implementation says of itself.</summary>
/// <param name="Connected">An implementation holds a WebSocket to WeSeek.</param>
/// <param name="Responded">It answered the status request (or sent a <c>meta.status_update</c>).</param>
/// <param name="Good">Its <c>good</c>: the implementation works.</param>
/// <param name="Online">Every bot account it serves is <c>online</c> (logged in to WeChat).</param>
/// <param name="Impl">The implementation's name.</param>
/// <param name="LastSeen">When it last sent anything.</param>
public sealed record OneBotStatus(bool Connected, bool Responded, bool Good, bool Online, string? Impl, DateTimeOffset? LastSeen);

/// <summary>
/// <c>onebot</c> under <c>/health/channels</c>: healthy when an implementation is connected, answers
/// <c>get_status</c> and reports itself good and its account online; degraded when connected but not good or
/// offline (the WeChat login expired); unhealthy when nothing is connected or it does not answer. Not part of
/// readiness: in reverse mode the implementation can only connect to a WeSeek that is ready.
/// </summary>
internal sealed class OneBotHealthCheck(OneBotChannel channel) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = await channel.GetStatusAsync(cancellationToken);
        return status switch
        {
            { Connected: false } => HealthCheckResult.Unhealthy("No OneBot implementation is connected."),
            { Responded: false } => HealthCheckResult.Unhealthy("The OneBot implementation does not answer get_status."),
            { Good: true, Online: true } => HealthCheckResult.Healthy($"{status.Impl ?? "OneBot"} is good and online."),
            _ => HealthCheckResult.Degraded($"{status.Impl ?? "OneBot"} reports good={status.Good}, online={status.Online}."),
        };
    }
}
