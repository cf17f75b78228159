using WeSeek.Messaging;
using WeSeek.Outbox;
using WeSeek.Security;

namespace WeSeek.Storage.Sql;

/// <summary><see cref="IOutboxStore"/> in the tables <c>outbox</c> and <c>send_counts</c>, in SQL both providers run. Thread-safe.</summary>
internal sealed class OutboxStore : IOutboxStore
{
    private readonly StoreDatabase _database;
    private readonly RecordCipher _cipher;
    private readonly InstanceIdentity _instance;

    public OutboxStore(StoreDatabase database, RecordCipher cipher, InstanceIdentity instance)
    {
        _instance = instance;
        _database = database;
        _cipher = cipher;
    }

    /// <summary>The oldest pending message of each chat (a chat's next message waits for it), oldest first.</summary>
    public async Task<IReadOnlyList<OutboxEntry>> GetHeadsAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT o.id, o.channel, o.account, o.chat_id, o.text, o.inbox_id, o.seq, o.attempts, o.next_attempt_at, o.key_id, i.received_at, i.trace_parent, i.held_until
            FROM outbox o JOIN inbox i ON i.id = o.inbox_id
            WHERE o.state = 'pending'
              AND o.id = (SELECT MIN(p.id) FROM outbox p
                          WHERE p.state = 'pending' AND p.channel = o.channel AND p.account = o.account AND p.chat_id = o.chat_id)
            ORDER BY o.id
            LIMIT @limit;
            """;
        command.AddParameter("@limit", limit);
        var result = new List<OutboxEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var message = new OutboundMessage(
                reader.GetInt64(0), ChannelId.From(reader.GetString(1)), reader.GetString(2), reader.GetString(3),
                _cipher.Read(reader, 4, 9, RecordCipher.OutboxText(reader.GetInt64(5), reader.GetInt64(6))), reader.GetInt64(5), (int)reader.GetInt64(6));
            result.Add(new OutboxEntry(message, (int)reader.GetInt64(7), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)), reader.IsDBNull(11) ? null : reader.GetString(11))
            {
                HeldUntil = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(12)),
            });
        }

        return result;
    }

    /// <summary>
    /// Takes the row for sending by this instance until <paramref name="until"/>, and for a rate-limited channel
    /// (<paramref name="day"/> set) counts it against the account's day at once, in the same transaction, only
    /// while the count is under <paramref name="cap"/>: instances sharing the database can never send more than
    /// the cap between them. A send that then fails gives the count back (<see cref="MarkFailedAttemptAsync"/>).
    /// </summary>
    public async Task<SendClaim> ClaimForSendAsync(OutboundMessage message, DateTimeOffset now, DateTimeOffset until, string? day, int cap, CancellationToken cancellationToken)
    {
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        var connection = writer.Connection;
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        bool reserved;
        await using (var previous = connection.CreateCommand())
        {
            // A claim that ran out (its instance died mid-send) was already counted against the day: taking the
            // row over does not count it again. A failed send gives its count back and clears the claim.
            previous.Transaction = transaction;
            previous.CommandText = "SELECT claimed_by FROM outbox WHERE id = @id;";
            previous.AddParameter("@id", message.OutboxId);
            reserved = await previous.ExecuteScalarAsync(cancellationToken) is string;
        }

        await using (var claim = connection.CreateCommand())
        {
            claim.Transaction = transaction;
            claim.CommandText = """
                UPDATE outbox SET claimed_by = @me, claimed_until = @until
                WHERE id = @id AND state = 'pending' AND (claimed_until <= @now OR claimed_by = @me);
                """;
            claim.AddParameter("@me", _instance.Id);
            claim.AddParameter("@until", until.ToUnixTimeMilliseconds());
            claim.AddParameter("@now", now.ToUnixTimeMilliseconds());
            claim.AddParameter("@id", message.OutboxId);
            if (await claim.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                return SendClaim.Taken;
            }
        }

        if (day is not null && !reserved)
        {
            await using var count = connection.CreateCommand();
            count.Transaction = transaction;
            count.CommandText = """
                INSERT INTO send_counts (channel, account, day, count) VALUES (@channel, @account, @day, 1)
                ON CONFLICT (channel, account, day) DO UPDATE SET count = send_counts.count + 1 WHERE send_counts.count < @cap;
                """;
            count.AddParameter("@channel", message.Channel.Value);
            count.AddParameter("@account", message.AccountId);
            count.AddParameter("@day", day);
            count.AddParameter("@cap", cap);
            if (await count.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                return SendClaim.CapReached;
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return SendClaim.Claimed;
    }

    /// <summary>True when other processes share the state: their sends are in the database, not in this one's memory.</summary>
    public bool Shared => _database.Shared;

    /// <summary>True while the row is neither sent (also as a passive reply) nor given up.</summary>
    public async Task<bool> IsPendingAsync(long outboxId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT state FROM outbox WHERE id = @id;";
        command.AddParameter("@id", outboxId);
        return await command.ExecuteScalarAsync(cancellationToken) is "pending";
    }

    /// <summary>Whether any reply to an inbound message still waits to be sent.</summary>
    public async Task<bool> AnyPendingForAsync(long inboxId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM outbox WHERE inbox_id = @inbox AND state = 'pending');";
        command.AddParameter("@inbox", inboxId);
        return await command.ScalarInt64Async(cancellationToken) != 0;
    }

    /// <summary>When the chat last got a message, if ever.</summary>
    public async Task<DateTimeOffset?> LastSentAtAsync(ChannelId channel, string account, string chatId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT MAX(sent_at) FROM outbox WHERE state = 'sent' AND channel = @channel AND account = @account AND chat_id = @chat;";
        command.AddParameter("@channel", channel.Value);
        command.AddParameter("@account", account);
        command.AddParameter("@chat", chatId);
        return await command.ExecuteScalarAsync(cancellationToken) is long at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null;
    }

    /// <summary>Messages an account sent on <paramref name="day"/> (yyyy-MM-dd in the cap's time zone).</summary>
    public async Task<int> SentCountAsync(ChannelId channel, string account, string day, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count FROM send_counts WHERE channel = @channel AND account = @account AND day = @day;";
        command.AddParameter("@channel", channel.Value);
        command.AddParameter("@account", account);
        command.AddParameter("@day", day);
        return await command.ExecuteScalarAsync(cancellationToken) is long count ? (int)count : 0;
    }

    /// <summary>Every account's sends on <paramref name="day"/> (yyyy-MM-dd in the cap's time zone), for the
    /// daily-cap gauge.</summary>
    public async Task<IReadOnlyList<(string Channel, string Account, long Count)>> SentCountsAsync(string day, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT channel, account, count FROM send_counts WHERE day = @day;";
        command.AddParameter("@day", day);
        var counts = new List<(string, string, long)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        }

        return counts;
    }

    /// <summary>Marks a message sent and, for rate-limited channels, counts it against the day, atomically.</summary>
    public async Task MarkSentAsync(OutboundMessage message, DateTimeOffset sentAt, string? platformId, string? day, CancellationToken cancellationToken)
    {
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        var connection = writer.Connection;
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var update = connection.CreateCommand())
        {
            update.Transaction = transaction;
            update.CommandText = "UPDATE outbox SET state = 'sent', sent_at = @at, platform_id = @platform, attempts = attempts + 1, error = NULL WHERE id = @id AND state = 'pending';";
            update.AddParameter("@at", sentAt.ToUnixTimeMilliseconds());
            update.AddParameter("@platform", (object?)platformId ?? DBNull.Value);
            update.AddParameter("@id", message.OutboxId);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        if (day is not null)
        {
            await using var count = connection.CreateCommand();
            count.Transaction = transaction;
            count.CommandText = """
                INSERT INTO send_counts (channel, account, day, count) VALUES (@channel, @account, @day, 1)
                ON CONFLICT (channel, account, day) DO UPDATE SET count = send_counts.count + 1;
                """;
            count.AddParameter("@channel", message.Channel.Value);
            count.AddParameter("@account", message.AccountId);
            count.AddParameter("@day", day);
            await count.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Records a failed attempt: retried at <paramref name="retryAt"/>, or given up when null. A send
    /// counted at its claim (<paramref name="refundDay"/>) is taken off the day's count again.</summary>
    public async Task MarkFailedAttemptAsync(OutboundMessage message, string error, DateTimeOffset? retryAt, string? refundDay, CancellationToken cancellationToken)
    {
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        var connection = writer.Connection;
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var update = connection.CreateCommand())
        {
            update.Transaction = transaction;
            update.CommandText = retryAt is null
                ? "UPDATE outbox SET state = 'failed', attempts = attempts + 1, error = @error, claimed_by = NULL, claimed_until = 0 WHERE id = @id AND state = 'pending';"
                : "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = @at, error = @error, claimed_by = NULL, claimed_until = 0 WHERE id = @id AND state = 'pending';";
            update.AddParameter("@id", message.OutboxId);
            update.AddParameter("@error", error.Length > 500 ? error[..500] : error);
            update.AddParameter("@at", retryAt?.ToUnixTimeMilliseconds() ?? 0);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        if (refundDay is not null)
        {
            await using var refund = connection.CreateCommand();
            refund.Transaction = transaction;
            refund.CommandText = "UPDATE send_counts SET count = count - 1 WHERE channel = @channel AND account = @account AND day = @day AND count > 0;";
            refund.AddParameter("@channel", message.Channel.Value);
            refund.AddParameter("@account", message.AccountId);
            refund.AddParameter("@day", refundDay);
            await refund.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<(IReadOnlyList<OutboundMessage> Claimed, IReadOnlyList<DateTimeOffset> FirstReceivedAt)> ClaimPassiveAsync(ChannelId channel, string accountId, string chatId, int max, DateTimeOffset now, string day, string platformId, CancellationToken cancellationToken)
    {
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
            update.AddParameter("@platform", platformId);
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
            count.AddParameter("@day", day);
            count.AddParameter("@n", claimed.Count);
            await count.ExecuteNonQueryAsync(cancellationToken);
        }

        var received = new List<DateTimeOffset>();
        foreach (var first in claimed.Where(m => m.Sequence == 0))
        {
            await using var select = connection.CreateCommand();
            select.Transaction = transaction;
            select.CommandText = "SELECT received_at FROM inbox WHERE id = @id;";
            select.AddParameter("@id", first.InboxId);
            if (await select.ExecuteScalarAsync(cancellationToken) is long at)
            {
                received.Add(DateTimeOffset.FromUnixTimeMilliseconds(at));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return (claimed, received);
    }

    public async Task<IReadOnlyList<(string Channel, long Count)>> PendingByChannelAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT channel, COUNT(*) FROM outbox WHERE state = 'pending' GROUP BY channel;";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new List<(string Channel, long Count)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            counts.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return counts;
    }

    /// <summary>Postpones a message without counting an attempt (daily cap reached).</summary>
    public async Task DeferAsync(long outboxId, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        var connection = writer.Connection;
        await using var update = connection.CreateCommand();
        update.CommandText = "UPDATE outbox SET next_attempt_at = @at WHERE id = @id AND state = 'pending';";
        update.AddParameter("@id", outboxId);
        update.AddParameter("@at", until.ToUnixTimeMilliseconds());
        await update.ExecuteNonQueryAsync(cancellationToken);
    }
}
