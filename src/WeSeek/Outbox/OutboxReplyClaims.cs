using WeSeek.Inbox;
using WeSeek.Messaging;
using WeSeek.Operations;
using WeSeek.Security;
using WeSeek.Storage;

namespace WeSeek.Outbox;

/// <summary>The core's <see cref="IReplyClaims"/>: turn completion signals plus an atomic claim of outbox rows
/// (marked sent with platform id <c>passive</c> and counted against the day, in one transaction).</summary>
internal sealed class OutboxReplyClaims : IReplyClaims
{
    /// <summary>The platform id recorded for replies that went back in the platform's own request.</summary>
    public const string PassivePlatformId = "passive";

    private readonly StoreDatabase _database;
    private readonly TurnCompletions _completions;
    private readonly ChatSendGate _gate;
    private readonly DailyCapCalendar _calendar;
    private readonly OutboxSignal _signal;
    private readonly TimeProvider _time;
    private readonly RecordCipher _cipher;
    private readonly AuditLog _audit;
    private readonly WeSeekMetrics _metrics;

    public OutboxReplyClaims(StoreDatabase database, RecordCipher cipher, AuditLog audit, TurnCompletions completions, ChatSendGate gate, DailyCapCalendar calendar, OutboxSignal signal, TimeProvider time, WeSeekMetrics metrics)
    {
        _metrics = metrics;
        _cipher = cipher;
        _audit = audit;
        _database = database;
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
            await using (var connection = await _database.OpenAsync(cancellationToken))
            await using (var command = connection.CreateCommand())
            {
                command.CommandText = "SELECT state FROM inbox WHERE id = @id;";
                command.AddParameter("@id", inboxId);
                if (await command.ExecuteScalarAsync(cancellationToken) is string state && state != "pending")
                {
                    _completions.Forget(inboxId, completed);
                    return true;
                }
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
                await completed.WaitAsync(_database.Shared && remaining > SharedRecheck ? SharedRecheck : remaining, _time, cancellationToken);
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
            await using var writer = await _database.OpenWriterAsync(CancellationToken.None);
            await using var command = writer.Connection.CreateCommand();
            command.CommandText = "UPDATE inbox SET held_until = 0 WHERE id = @id AND held_until > 0;";
            command.AddParameter("@id", inboxId);
            if (await command.ExecuteNonQueryAsync(CancellationToken.None) > 0)
            {
                await _database.NotifyAsync(writer.Connection, null, StoreSignal.HoldReleased, inboxId, CancellationToken.None);
            }
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
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        var connection = writer.Connection;
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var claimed = new List<OutboundMessage>();
        await using (var update = connection.CreateCommand())
        {
            update.Transaction = transaction;
            update.CommandText = """
                UPDATE outbox SET state = 'sent', sent_at = @now, platform_id = @platform, attempts = attempts + 1, error = NULL
                WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND claimed_until <= @now AND channel = @channel AND account = @account AND chat_id = @chat ORDER BY id LIMIT @max)
                RETURNING id, text, inbox_id, seq, key_id;
                """;
            update.AddParameter("@now", now.ToUnixTimeMilliseconds());
            update.AddParameter("@platform", PassivePlatformId);
            update.AddParameter("@channel", channel.Value);
            update.AddParameter("@account", accountId);
            update.AddParameter("@chat", chatId);
            update.AddParameter("@max", max);
            await using var reader = await update.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var text = _cipher.Read(reader, 1, 4, RecordCipher.OutboxText(reader.GetInt64(2), reader.GetInt64(3)));
                claimed.Add(new OutboundMessage(reader.GetInt64(0), channel, accountId, chatId, text, reader.GetInt64(2), (int)reader.GetInt64(3)));
            }
        }

        if (claimed.Count > 0)
        {
            await using var count = connection.CreateCommand();
            count.Transaction = transaction;
            count.CommandText = """
                INSERT INTO send_counts (channel, account, day, count) VALUES (@channel, @account, @day, @n)
                ON CONFLICT (channel, account, day) DO UPDATE SET count = send_counts.count + @n;
                """;
            count.AddParameter("@channel", channel.Value);
            count.AddParameter("@account", accountId);
            count.AddParameter("@day", _calendar.DayOf(now));
            count.AddParameter("@n", claimed.Count);
            await count.ExecuteNonQueryAsync(cancellationToken);
        }

        var received = new List<long>();
        foreach (var first in claimed.Where(m => m.Sequence == 0))
        {
            await using var select = connection.CreateCommand();
            select.Transaction = transaction;
            select.CommandText = "SELECT received_at FROM inbox WHERE id = @id;";
            select.AddParameter("@id", first.InboxId);
            if (await select.ExecuteScalarAsync(cancellationToken) is long at)
            {
                received.Add(at);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        _metrics.Sent.Add(claimed.Count, WeSeekMetrics.Channel(channel.Value), new("mode", "passive"));
        foreach (var at in received)
        {
            _metrics.FirstReplyLatency.Record((now - DateTimeOffset.FromUnixTimeMilliseconds(at)).TotalSeconds, WeSeekMetrics.Channel(channel.Value));
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
