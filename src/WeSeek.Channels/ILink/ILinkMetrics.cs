using System.Diagnostics.Metrics;

namespace WeSeek.Channels.ILink;

/// <summary>The iLink channel's instruments on the <c>WeSeek</c> meter (exported at <c>/metrics</c>).</summary>
internal static class ILinkMetrics
{
    public static readonly Meter Meter = new("WeSeek");

    public static readonly Counter<long> RateLimited = Meter.CreateCounter<long>(
        "weseek.ilink.rate_limited", "{response}", "iLink answers of ret=-2 (rate limited), by operation");

    public static readonly Counter<long> SessionExpired = Meter.CreateCounter<long>(
        "weseek.ilink.session_expired", "{event}", "iLink sessions that expired (errcode -14) and need a new QR scan");

    public static readonly Counter<long> BudgetExhausted = Meter.CreateCounter<long>(
        "weseek.ilink.budget_exhausted", "{message}", "Replies not sent because the context_token's send budget was spent or it expired");

    public static readonly Counter<long> Received = Meter.CreateCounter<long>(
        "weseek.ilink.received", "{message}", "Messages received through getupdates");
}
