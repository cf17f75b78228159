using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Composition;
using WeSeek.Logging;
using WeSeek.Messaging;
using WeSeek.Operations;
using WeSeek.Outbox;

namespace WeSeek.Pipeline;

/// <summary>
/// Stops a turn before the model is called when its answer could not be sent today: the account reached
/// its daily cap on a WeChat channel. The turn completes without a reply (nothing could deliver one), so no
/// model time is spent on answers that would wait until tomorrow.
/// </summary>
internal sealed partial class GuardMiddleware : ITurnMiddleware
{
    private readonly OutboxStore _outbox;
    private readonly ChannelRegistry _channels;
    private readonly DailyCapCalendar _calendar;
    private readonly OutboxOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<GuardMiddleware> _logger;

    public GuardMiddleware(OutboxStore outbox, ChannelRegistry channels, DailyCapCalendar calendar, IOptions<OutboxOptions> options, TimeProvider time, ILogger<GuardMiddleware> logger)
    {
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
                WeSeekMetrics.QuotaRejections.Add(1, WeSeekMetrics.Channel(message.Channel.Value));
                return;
            }
        }

        await next(turn);
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.GuardDailyCap, LogLevel.Warning, "Message {InboxId} not answered: account {Account} reached its daily cap of {Cap}")]
        public static partial void DailyCap(ILogger logger, long inboxId, string account, int cap);
    }
}
