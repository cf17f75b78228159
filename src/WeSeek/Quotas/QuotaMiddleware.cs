using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Hosting;
using WeSeek.Inbox;
using WeSeek.Logging;
using WeSeek.Messaging;
using WeSeek.Operations;
using WeSeek.Outbox;
using WeSeek.Pipeline;

namespace WeSeek.Quotas;

/// <summary>
/// Stops a turn before the model is called when its answer could not be sent today: the account reached
/// its daily cap on a WeChat channel. The turn completes without a reply (nothing could deliver one), so no
/// model time is spent on answers that would wait until tomorrow.
/// </summary>
internal sealed partial class QuotaMiddleware : ITurnMiddleware
{
    private readonly IOutboxStore _outbox;
    private readonly ChannelRegistry _channels;
    private readonly DailyCapCalendar _calendar;
    private readonly OutboxOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<QuotaMiddleware> _logger;

    private readonly QuotaOptions _quota;
    private readonly DurableInbox _inbox;
    private readonly WeSeekMetrics _metrics;

    public QuotaMiddleware(IOutboxStore outbox, ChannelRegistry channels, DailyCapCalendar calendar, IOptions<OutboxOptions> options, IOptions<QuotaOptions> quota, DurableInbox inbox, TimeProvider time, ILogger<QuotaMiddleware> logger, WeSeekMetrics metrics)
    {
        _metrics = metrics;
        _quota = quota.Value;
        _inbox = inbox;
        _outbox = outbox;
        _channels = channels;
        _calendar = calendar;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public async Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        var message = turn.Message;
        if (message.Kind == MessageKind.Other)
        {
            // Stored for the record (an unknown message type, an unsubscribe): nothing to answer, no model time.
            return;
        }

        if (_channels.Find(message.Channel) is { Capabilities.RateLimited: true })
        {
            var sent = await _outbox.SentCountAsync(message.Channel, message.AccountId, _calendar.DayOf(_time.GetUtcNow()), turn.Aborted);
            if (sent >= _options.DailyCap)
            {
                Log.DailyCap(_logger, turn.InboxId, message.AccountId, _options.DailyCap);
                _metrics.QuotaRejections.Add(1, WeSeekMetrics.Channel(message.Channel.Value), new("scope", "account"));
                return;
            }
        }

        if (await OverQuotaAsync(turn) is not null)
        {
            return;
        }

        await next(turn);
    }

    /// <summary>
    /// Per-user, per-member (one sender in one group) and per-group daily quotas: the messages counted are this
    /// sender's (in this group; this group's) stored today up to and including this one, so a turn that runs again decides the same. The first message over
    /// the quota gets <see cref="QuotaOptions.Notice"/>, once; later ones today get nothing.
    /// </summary>
    private async Task<string?> OverQuotaAsync(Turn turn)
    {
        var message = turn.Message;
        var dayStart = _calendar.DayStart(_time.GetUtcNow());
        foreach (var (scope, limit, column, value, chat) in new[]
        {
            ("user", _quota.PerUserDaily, "sender_id", message.SenderId, (string?)null),
            ("member", message.IsGroup ? _quota.PerMemberDaily : 0, "sender_id", message.SenderId, message.ChatId),
            ("group", message.IsGroup ? _quota.PerGroupDaily : 0, "chat_id", message.ChatId, null),
        })
        {
            if (limit <= 0)
            {
                continue;
            }

            var count = await _inbox.CountTodayAsync(message.Channel, column, value, dayStart, turn.InboxId, turn.Aborted, chat);
            if (count <= limit)
            {
                continue;
            }

            _metrics.QuotaRejections.Add(1, WeSeekMetrics.Channel(message.Channel.Value), new("scope", scope));
            Log.OverQuota(_logger, turn.InboxId, scope, limit);
            if (count == limit + 1)
            {
                turn.Replies.Add(_quota.Notice);
            }

            return scope;
        }

        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.GuardDailyCap, LogLevel.Warning, "Message {InboxId} not answered: account {Account} reached its daily cap of {Cap}")]
        public static partial void DailyCap(ILogger logger, long inboxId, string account, int cap);

        [LoggerMessage(WeSeekEventId.GuardQuota, LogLevel.Information, "Message {InboxId} not answered: over the {Scope} daily quota of {Limit}")]
        public static partial void OverQuota(ILogger logger, long inboxId, string scope, int limit);
    }
}
