using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WeSeek.Hosting;
using WeSeek.Inbox;
using WeSeek.Outbox;

namespace WeSeek.Operations;

/// <summary>How many messages wait, by queue (<c>inbox</c>: stored, not yet answered; <c>outbox</c>: replies
/// not yet sent) and channel.</summary>
/// <param name="Queue">inbox or outbox.</param>
/// <param name="Channel">The channel.</param>
/// <param name="Depth">Rows waiting.</param>
public sealed record QueueDepth(string Queue, string Channel, long Depth);

/// <summary>
/// Counts the pending rows of the inbox and the outbox every few seconds (the partial indexes make it cheap) and
/// exports them as the gauge <c>weseek.queue.depth</c>; the admin API shows the same snapshot. Counting from
/// SQLite rather than keeping counters in memory means the figure is right after a restart and includes what
/// another process stored.
/// </summary>
internal sealed partial class QueueDepths : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly IInboxStore _inbox;
    private readonly IOutboxStore _outbox;
    private readonly ChannelRegistry _channels;
    private readonly TimeProvider _time;
    private readonly ILogger<QueueDepths> _logger;
    private volatile IReadOnlyList<QueueDepth> _current = [];

    public QueueDepths(IInboxStore inbox, IOutboxStore outbox, ChannelRegistry channels, IMeterFactory meters, TimeProvider time, ILogger<QueueDepths> logger)
    {
        _inbox = inbox;
        _outbox = outbox;
        _channels = channels;
        _time = time;
        _logger = logger;
        // The container's meter, disposed with it: a second host in the process (tests) leaves no callback
        // behind on a shared meter.
        meters.Create(WeSeekMetrics.MeterName).CreateObservableGauge(
            "weseek.queue.depth",
            () => _current.Select(d => new Measurement<long>(d.Depth, new("queue", d.Queue), WeSeekMetrics.Channel(d.Channel))),
            "{message}",
            "Messages waiting: inbox (stored, not answered yet) and outbox (replies not sent yet), by channel.");
    }

    /// <summary>The latest counts.</summary>
    public IReadOnlyList<QueueDepth> Current => _current;

    /// <summary>Counts now, and keeps the result as <see cref="Current"/>.</summary>
    public async Task<IReadOnlyList<QueueDepth>> RefreshAsync(CancellationToken cancellationToken)
    {
        var depths = new List<QueueDepth>();
        depths.AddRange((await _inbox.PendingByChannelAsync(cancellationToken)).Select(d => new QueueDepth("inbox", d.Channel, d.Count)));
        depths.AddRange((await _outbox.PendingByChannelAsync(cancellationToken)).Select(d => new QueueDepth("outbox", d.Channel, d.Count)));

        // Every channel's queues, empty ones at 0, rather than series that come and go.
        var known = _channels.All.Select(c => c.Id.Value).Concat(_current.Select(d => d.Channel)).Distinct(StringComparer.Ordinal);
        foreach (var channel in known)
        {
            foreach (var queue in new[] { "inbox", "outbox" })
            {
                if (!depths.Any(d => d.Queue == queue && d.Channel == channel))
                {
                    depths.Add(new QueueDepth(queue, channel, 0));
                }
            }
        }

        _current = depths;
        return depths;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicRefresh.RunAsync(Interval, _time, RefreshAsync, ex => Log.CountFailed(_logger, ex), stoppingToken);

    private static partial class Log
    {
        [LoggerMessage(EventId = Logging.WeSeekEventId.QueueDepthFailed, Level = LogLevel.Warning, Message = "Counting the waiting messages failed; the queue-depth gauge keeps its last value.")]
        public static partial void CountFailed(ILogger logger, Exception exception);
    }
}
