using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Hosting;
using WeSeek.Inbox;
using WeSeek.Logging;
using WeSeek.Messaging;
using WeSeek.Operations;
using WeSeek.Security;
using WeSeek.Storage;

namespace WeSeek.Outbox;

/// <summary>
/// Drains the outbox: one message at a time per chat, in order; for WeChat channels at most one message per
/// <see cref="OutboxOptions.PacingInterval"/> per chat and <see cref="OutboxOptions.DailyCap"/> per account and
/// day; failures retried with exponential backoff. A message is marked sent only after the channel accepted it;
/// a crash in between offers it again with the same <see cref="OutboundMessage.OutboxId"/>, which channels use
/// as their idempotency key.
/// </summary>
/// <remarks>
/// Pacing and the cap are scheduled here rather than with System.Threading.RateLimiting: its limiters keep
/// their state in memory and run on wall-clock timers, while the cap must survive restarts (it is counted in
/// the database, in the same transaction that marks a message sent) and both must run on the injected
/// <see cref="TimeProvider"/> so they can be tested on virtual time. Deferring a row (instead of waiting on a
/// lease) also means a paced chat never holds up the others.
/// </remarks>
internal sealed partial class OutboxSender : BackgroundService
{
    private readonly IOutboxStore _store;
    private readonly ChannelRegistry _channels;
    private readonly OutboxSignal _signal;
    private readonly OutboxOptions _options;
    private readonly TimeProvider _time;
    private readonly DailyCapCalendar _calendar;
    private readonly ILogger<OutboxSender> _logger;
    private readonly TurnCompletions _completions;
    private readonly ChatSendGate _gate;
    private readonly AuditLog _audit;
    private readonly WeSeekMetrics _metrics;
    private readonly Dictionary<(ChannelId, string, string), DateTimeOffset> _lastSent = [];

    public OutboxSender(IOutboxStore store, ChannelRegistry channels, OutboxSignal signal, DailyCapCalendar calendar, IOptions<OutboxOptions> options, TimeProvider time, ILogger<OutboxSender> logger, TurnCompletions completions, ChatSendGate gate, AuditLog audit, WeSeekMetrics metrics)
    {
        _metrics = metrics;
        _audit = audit;
        _completions = completions;
        _gate = gate;
        _store = store;
        _channels = channels;
        _signal = signal;
        _options = options.Value;
        _time = time;
        _calendar = calendar;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = _options.PollInterval;
            try
            {
                var pass = await SendDueAsync(stoppingToken);
                if (pass.Attempted > 0)
                {
                    continue;
                }

                if (pass.NextDue is { } wake)
                {
                    var until = wake - _time.GetUtcNow();
                    wait = until < wait ? (until > TimeSpan.Zero ? until : TimeSpan.Zero) : wait;
                }

                await _signal.WaitAsync(wait, _time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (System.Data.Common.DbException ex)
            {
                // The database went away (PostgreSQL restarting, a network partition): what is stored stays
                // stored; the next pass after the pause sends it.
                Log.DatabaseUnavailable(_logger, ex, StorageOutage.RetryDelay);
                await StorageOutage.PauseAsync(_time, stoppingToken);
            }
        }
    }

    /// <summary>
    /// Sends every message that may go now. Returns how many it tried and, of those it could not send yet,
    /// when the first becomes due (pacing, retry, the cap's next day). After a pass that sent something,
    /// look again at once: a chat's next message has become its head.
    /// </summary>
    internal async Task<SendPass> SendDueAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        PruneLastSent(now);
        DateTimeOffset? wake = null;
        var due = new List<(OutboxEntry Entry, IChannel Channel, string? Day)>();
        var counted = new Dictionary<(ChannelId, string), int>();
        var day = _calendar.DayOf(now);
        foreach (var entry in await _store.GetHeadsAsync(limit: 512, cancellationToken))
        {
            var message = entry.Message;
            if (_channels.Find(message.Channel) is not { } channel)
            {
                Log.UnknownChannel(_logger, message.OutboxId, message.Channel.Value);
                await _store.MarkFailedAttemptAsync(message, $"No channel '{message.Channel}' is configured.", now + _options.MaxRetryDelay, null, cancellationToken);
                continue;
            }

            if (!channel.Capabilities.Push)
            {
                // Claimed by the channel when the user writes again; never sent, never given up.
                continue;
            }

            if (channel is ILeasedChannel { HoldsLease: false })
            {
                // Another instance holds the channel's connection and sends its messages; a takeover is seen at
                // the next poll.
                continue;
            }

            if (_completions.IsHeld(message.InboxId, now, out var heldUntil))
            {
                // A channel is about to answer this message in the platform's own request (passive reply);
                // releasing the hold wakes this loop for whatever it does not take, and a pre-hold nobody
                // waits on ends at its deadline.
                if (heldUntil is { } deadline)
                {
                    wake = Earliest(wake, deadline);
                }

                continue;
            }

            if (entry.HeldUntil > now)
            {
                // Held by a channel waiting to answer passively, perhaps on another instance.
                wake = Earliest(wake, entry.HeldUntil);
                continue;
            }

            if (entry.NextAttemptAt > now)
            {
                wake = Earliest(wake, entry.NextAttemptAt);
                continue;
            }

            if (channel.Capabilities.RateLimited)
            {
                var chat = (message.Channel, message.AccountId, message.ChatId);
                if (!_lastSent.TryGetValue(chat, out var last) || _store.Shared)
                {
                    // Shared database: another instance may have sent to this chat since this one did.
                    var stored = await _store.LastSentAtAsync(message.Channel, message.AccountId, message.ChatId, cancellationToken) ?? DateTimeOffset.MinValue;
                    last = stored > last ? stored : last;
                }

                if (last != DateTimeOffset.MinValue && last + _options.PacingInterval > now)
                {
                    wake = Earliest(wake, last + _options.PacingInterval);
                    continue;
                }

                var account = (message.Channel, message.AccountId);
                if (!counted.TryGetValue(account, out var sent))
                {
                    sent = await _store.SentCountAsync(message.Channel, message.AccountId, day, cancellationToken);
                }

                if (sent >= _options.DailyCap)
                {
                    var midnight = _calendar.NextMidnight(now);
                    Log.DailyCapReached(_logger, message.AccountId, message.Channel.Value, _options.DailyCap, midnight);
                    await _store.DeferAsync(message.OutboxId, midnight, cancellationToken);
                    wake = Earliest(wake, midnight);
                    continue;
                }

                counted[account] = sent + 1;
                due.Add((entry, channel, day));
            }
            else
            {
                due.Add((entry, channel, null));
            }
        }

        await Parallel.ForEachAsync(
            due,
            new ParallelOptions { MaxDegreeOfParallelism = _options.MaxParallelSends, CancellationToken = cancellationToken },
            async (item, ct) => await SendOneAsync(item.Entry, item.Channel, item.Day, ct));

        return new SendPass(due.Count, wake);
    }

    private async Task SendOneAsync(OutboxEntry entry, IChannel channel, string? day, CancellationToken cancellationToken)
    {
        var message = entry.Message;
        using var entered = await _gate.EnterAsync(message.Channel.Value, message.AccountId, message.ChatId, cancellationToken);
        var claimedAt = _time.GetUtcNow();
        switch (await _store.ClaimForSendAsync(message, claimedAt, claimedAt + _options.ClaimTime, day, _options.DailyCap, cancellationToken))
        {
            case SendClaim.Taken:
                // Claimed for a passive reply since this pass read it, or being sent by another instance.
                return;
            case SendClaim.CapReached:
                // Another instance sent the account's last messages of the day since this pass counted.
                var midnight = _calendar.NextMidnight(claimedAt);
                Log.DailyCapReached(_logger, message.AccountId, message.Channel.Value, _options.DailyCap, midnight);
                await _store.DeferAsync(message.OutboxId, midnight, cancellationToken);
                return;
        }

        using var activity = WeSeekTelemetry.Start("weseek.send", ActivityKind.Client, entry.TraceParent);
        activity?.SetTag("weseek.outbox_id", message.OutboxId);
        activity?.SetTag("weseek.channel", message.Channel.Value);
        activity?.SetTag("weseek.sequence", message.Sequence);
        try
        {
            var receipt = await channel.SendAsync(message, cancellationToken);
            var sentAt = _time.GetUtcNow();
            lock (_lastSent)
            {
                _lastSent[(message.Channel, message.AccountId, message.ChatId)] = sentAt;
            }

            // Counted against the day when claimed.
            await _store.MarkSentAsync(message, sentAt, receipt.PlatformMessageId, null, CancellationToken.None);
            Log.Sent(_logger, message.OutboxId, message.Channel.Value);
            _metrics.Sent.Add(1, WeSeekMetrics.Channel(message.Channel.Value), new("mode", "api"));
            if (message.Sequence == 0)
            {
                _metrics.FirstReplyLatency.Record((sentAt - entry.ReceivedAt).TotalSeconds, WeSeekMetrics.Channel(message.Channel.Value));
            }

            // A turn stores all its replies at once, so none pending means this was its last.
            if (!await _store.AnyPendingForAsync(message.InboxId, CancellationToken.None))
            {
                _metrics.LastReplyLatency.Record((sentAt - entry.ReceivedAt).TotalSeconds, WeSeekMetrics.Channel(message.Channel.Value));
            }
            await AuditSentAsync(message, receipt.PlatformMessageId);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            var attempts = entry.Attempts + 1;
            var permanent = ex is ChannelSendException { IsPermanent: true };
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            _metrics.SendFailures.Add(1, WeSeekMetrics.Channel(message.Channel.Value), new("permanent", permanent || attempts >= _options.MaxAttempts));
            if (permanent || attempts >= _options.MaxAttempts)
            {
                Log.GaveUp(_logger, ex, message.OutboxId, message.Channel.Value, attempts);
                await _store.MarkFailedAttemptAsync(message, Redaction.Scrub(ex.Message), null, day, CancellationToken.None);
                return;
            }

            var delay = Backoff.Exponential(_options.RetryDelay, _options.MaxRetryDelay, attempts);
            Log.SendFailed(_logger, ex, message.OutboxId, message.Channel.Value, attempts, delay);
            await _store.MarkFailedAttemptAsync(message, Redaction.Scrub(ex.Message), _time.GetUtcNow() + delay, day, CancellationToken.None);
        }
    }

    private void PruneLastSent(DateTimeOffset now)
    {
        // Entries older than the pacing interval no longer constrain anything; dropping them bounds the map.
        lock (_lastSent)
        {
            foreach (var key in _lastSent.Where(p => p.Value + _options.PacingInterval <= now).Select(p => p.Key).ToList())
            {
                _lastSent.Remove(key);
            }
        }
    }

    private static DateTimeOffset Earliest(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x < b ? x : b;

    // The message is sent and marked so: a failing audit write must not make it look unsent (and be sent again).
    private async Task AuditSentAsync(OutboundMessage message, string? platformId)
    {
        try
        {
            await _audit.MessageSentAsync(message, platformId, CancellationToken.None);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
        {
            Log.AuditFailed(_logger, ex, message.OutboxId);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.DatabaseUnavailable, LogLevel.Warning, "The database does not answer; the outbox tries again in {Delay}")]
        public static partial void DatabaseUnavailable(ILogger logger, Exception exception, TimeSpan delay);

        [LoggerMessage(WeSeekEventId.AuditAppendFailed, LogLevel.Error, "Outbox message {OutboxId} was sent but could not be written to the audit log")]
        public static partial void AuditFailed(ILogger logger, Exception exception, long outboxId);

        [LoggerMessage(WeSeekEventId.OutboxSent, LogLevel.Debug, "Sent outbox message {OutboxId} through {Channel}")]
        public static partial void Sent(ILogger logger, long outboxId, string channel);

        [LoggerMessage(WeSeekEventId.OutboxSendFailed, LogLevel.Warning, "Sending outbox message {OutboxId} through {Channel} failed (attempt {Attempt}); retrying in {Delay}")]
        public static partial void SendFailed(ILogger logger, Exception exception, long outboxId, string channel, int attempt, TimeSpan delay);

        [LoggerMessage(WeSeekEventId.OutboxGaveUp, LogLevel.Error, "Gave up sending outbox message {OutboxId} through {Channel} after {Attempts} attempts")]
        public static partial void GaveUp(ILogger logger, Exception exception, long outboxId, string channel, int attempts);

        [LoggerMessage(WeSeekEventId.OutboxDailyCapReached, LogLevel.Warning, "Account {Account} on {Channel} reached its daily cap of {Cap} messages; holding sends until {Until}")]
        public static partial void DailyCapReached(ILogger logger, string account, string channel, int cap, DateTimeOffset until);

        [LoggerMessage(WeSeekEventId.OutboxUnknownChannel, LogLevel.Error, "Outbox message {OutboxId} is for channel {Channel}, which is not configured; holding it")]
        public static partial void UnknownChannel(ILogger logger, long outboxId, string channel);
    }
}

/// <summary>The result of one pass of the sender.</summary>
/// <param name="Attempted">Messages it tried to send.</param>
/// <param name="NextDue">When the first message it had to hold becomes due, if any.</param>
internal readonly record struct SendPass(int Attempted, DateTimeOffset? NextDue);
