using System.Diagnostics.Metrics;

namespace WeSeek.Channels.ILink;

/// <summary>The iLink channel's instruments on the <c>WeSeek</c> meter (exported at <c>/metrics</c>), from the
/// container's <see cref="IMeterFactory"/> and disposed with it. Thread-safe.</summary>
internal sealed class ILinkMetrics
{
    public ILinkMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create("WeSeek");
        RateLimited = meter.CreateCounter<long>(
            "weseek.ilink.rate_limited", "{response}", "iLink answers of ret=-2 (rate limited), by operation");
        SessionExpired = meter.CreateCounter<long>(
            "weseek.ilink.session_expired", "{event}", "iLink sessions that expired (errcode -14) and need a new QR scan");
        BudgetExhausted = meter.CreateCounter<long>(
            "weseek.ilink.budget_exhausted", "{message}", "Replies not sent because the context_token's send budget was spent or it expired");
        Received = meter.CreateCounter<long>(
            "weseek.ilink.received", "{message}", "Messages received through getupdates");
    }

    public Counter<long> RateLimited { get; }

    public Counter<long> SessionExpired { get; }

    public Counter<long> BudgetExhausted { get; }

    public Counter<long> Received { get; }
}
