using WeSeek.Inbox;
using WeSeek.Messaging;
using WeSeek.Operations;
using WeSeek.Security;

namespace WeSeek.Outbox;

/// <summary>The core's <see cref="IReplyClaims"/>: turn completion signals plus an atomic claim of outbox rows
/// (marked sent with platform id <c>passive</c> and counted against the day, in one transaction).</summary>
internal sealed class OutboxReplyClaims : IReplyClaims
{
    /// <summary>The platform id recorded for replies that went back in the platform's own request.</summary>
    public const string PassivePlatformId = "passive";

    private readonly IInboxStore _inbox;
    private readonly IOutboxStore _outbox;
    private readonly TurnCompletions _completions;
    private readonly ChatSendGate _gate;
    private readonly DailyCapCalendar _calendar;
    private readonly OutboxSignal _signal;
    private readonly TimeProvider _time;
    private readonly AuditLog _audit;
    private readonly WeSeekMetrics _metrics;

    public OutboxReplyClaims(IInboxStore inbox, IOutboxStore outbox, AuditLog audit, TurnCompletions completions, ChatSendGate gate, DailyCapCalendar calendar, OutboxSignal signal, TimeProvider time, WeSeekMetrics metrics)
    {
        _metrics = metrics;
        _inbox = inbox;
        _outbox = outbox;
        _audit = audit;
        _completions = completions;
        _gate = gate;
        _calendar = calendar;
        _signal = signal;
        _time = time;
    }

    public async Task<IReadOnlyList<OutboundMessage>> WaitAndClaimAsync(long inboxId, ChannelId channel, string accountId, string chatId, int max, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _completions.Hold(inboxId);
        try
        {
            return await WaitForTurnAsync(inboxId, timeout, cancellationToken)
                ? await ClaimAsync(channel, accountId, chatId, max, cancellationToken)
                : [];
        }
        finally
        {
            _completions.Release(inboxId);
            await ReleaseHoldAsync(inboxId);
            // Whatever was not claimed is the sender's again.
            _signal.Notify();
        }
    }

    public async Task<bool> WaitForTurnAsync(long inboxId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var completed = _completions.Register(inboxId);
        var deadline = _time.GetUtcNow() + timeout;
        while (true)
        {
            if (await _inbox.IsFinishedAsync(inboxId, cancellationToken))
            {
                _completions.Forget(inboxId, completed);
                return true;
            }

            var remaining = deadline - _time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                _completions.Forget(inboxId, completed);
                return false;
            }

            try
            {
                // Shared database: the turn may run on another instance, whose completion arrives by NOTIFY; the
                // database is asked again every half second in case a notification was lost (a reconnect).
                await completed.WaitAsync(_outbox.Shared && remaining > SharedRecheck ? SharedRecheck : remaining, _time, cancellationToken);
                return true;
            }
            catch (TimeoutException)
            {
            }
        }
    }

    private static readonly TimeSpan SharedRecheck = TimeSpan.FromMilliseconds(500);

    /// <summary>Ends the hold in the row, so that every instance's sender takes what was not claimed.</summary>
    private async Task ReleaseHoldAsync(long inboxId)
    {
        try
        {
            await _inbox.ReleaseHoldAsync(inboxId, CancellationToken.None);
        }
        catch (System.Data.Common.DbException)
        {
            // The hold runs out at its deadline anyway.
        }
    }

    public async Task<IReadOnlyList<OutboundMessage>> ClaimAsync(ChannelId channel, string accountId, string chatId, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        using var entered = await _gate.EnterAsync(channel.Value, accountId, chatId, cancellationToken);
        var now = _time.GetUtcNow();
        var (claimed, received) = await _outbox.ClaimPassiveAsync(channel, accountId, chatId, max, now, _calendar.DayOf(now), PassivePlatformId, cancellationToken);
        _metrics.Sent.Add(claimed.Count, WeSeekMetrics.Channel(channel.Value), new("mode", "passive"));
        foreach (var at in received)
        {
            _metrics.FirstReplyLatency.Record((now - at).TotalSeconds, WeSeekMetrics.Channel(channel.Value));
        }

        foreach (var message in claimed)
        {
            await _audit.MessageSentAsync(message, PassivePlatformId, CancellationToken.None);
        }

        if (claimed.Count > 0)
        {
            // The chat's next reply, if any, is now its head and may go through the API.
            _signal.Notify();
        }

        return [.. claimed.OrderBy(m => m.OutboxId)];
    }
}
