using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Outbox;

namespace WeSeek.Operations;

/// <summary>
/// How much of the daily cap each account has used today: the gauges <c>weseek.outbox.daily_sent</c> (by channel
/// and account, the day in <c>Outbox:DailyCapTimeZone</c>) and <c>weseek.outbox.daily_cap</c> (the cap). Counted
/// from the store every few seconds, like the queue depths, so every instance sharing a database reports the
/// same figure (a dashboard takes the max over instances, not the sum) and a restart loses nothing. Only
/// channels whose sends are capped (WeChat's) count; an account appears once it has sent today.
/// </summary>
internal sealed partial class DailyCapUsage : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly IOutboxStore _store;
    private readonly DailyCapCalendar _calendar;
    private readonly TimeProvider _time;
    private readonly ILogger<DailyCapUsage> _logger;
    private volatile IReadOnlyList<(string Channel, string Account, long Count)> _current = [];

    public DailyCapUsage(IOutboxStore store, DailyCapCalendar calendar, IOptions<OutboxOptions> options, IMeterFactory meters, TimeProvider time, ILogger<DailyCapUsage> logger)
    {
        _store = store;
        _calendar = calendar;
        _time = time;
        _logger = logger;
        var cap = options.Value.DailyCap;
        // The container's meter, disposed with it (see QueueDepths).
        var meter = meters.Create(WeSeekMetrics.MeterName);
        meter.CreateObservableGauge(
            "weseek.outbox.daily_sent",
            () => _current.Select(c => new Measurement<long>(c.Count, WeSeekMetrics.Channel(c.Channel), new("account", c.Account))),
            "{message}",
            "Messages each account sent today (the daily cap's day), by channel and account.");
        meter.CreateObservableGauge("weseek.outbox.daily_cap", () => (long)cap, "{message}", "The daily cap per account (Outbox:DailyCap).");
    }

    /// <summary>Counts now.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken) =>
        _current = await _store.SentCountsAsync(_calendar.DayOf(_time.GetUtcNow()), cancellationToken);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicRefresh.RunAsync(Interval, _time, RefreshAsync, ex => Log.CountFailed(_logger, ex), stoppingToken);

    private static partial class Log
    {
        [LoggerMessage(EventId = Logging.WeSeekEventId.DailyCapCountFailed, Level = LogLevel.Warning, Message = "Counting today's sends failed; the daily-cap gauge keeps its last value.")]
        public static partial void CountFailed(ILogger logger, Exception exception);
    }
}
