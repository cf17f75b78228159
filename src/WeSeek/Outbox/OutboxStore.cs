using WeSeek.Messaging;
using WeSeek.Security;
using WeSeek.Storage;

namespace WeSeek.Outbox;

/// <summary>A pending outbox row with its bookkeeping.</summary>
/// <summary>A pending reply, its attempts so far, when it may next be tried, and when its message was stored.</summary>
internal sealed record OutboxEntry(OutboundMessage Message, int Attempts, DateTimeOffset NextAttemptAt, DateTimeOffset ReceivedAt, string? TraceParent = null);

/// <summary>The outbox table: replies stored by turns, drained by <see cref="OutboxSender"/>. Thread-safe.</summary>
internal sealed class OutboxStore
{
    private readonly StoreDatabase _database;
    private readonly RecordCipher _cipher;

    public OutboxStore(StoreDatabase database, RecordCipher cipher)
    {
        _database = database;
        _cipher = cipher;
    }

    /// <summary>The oldest pending message of each chat (a chat's next message waits for it), oldest first.</summary>
    public async Task<IReadOnlyList<OutboxEntry>> GetHeadsAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT o.id, o.channel, o.account, o.chat_id, o.text, o.inbox_id, o.seq, o.attempts, o.next_attempt_at, o.key_id, i.received_at, i.trace_parent
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
            result.Add(new OutboxEntry(message, (int)reader.GetInt64(7), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)), reader.IsDBNull(11) ? null : reader.GetString(11)));
        }

        return result;
    }

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

    /// <summary>Records a failed attempt: retried at <paramref name="retryAt"/>, or given up when null.</summary>
    public async Task MarkFailedAttemptAsync(long outboxId, string error, DateTimeOffset? retryAt, CancellationToken cancellationToken)
    {
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        var connection = writer.Connection;
        await using var update = connection.CreateCommand();
        update.CommandText = retryAt is null
            ? "UPDATE outbox SET state = 'failed', attempts = attempts + 1, error = @error WHERE id = @id AND state = 'pending';"
            : "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = @at, error = @error WHERE id = @id AND state = 'pending';";
        update.AddParameter("@id", outboxId);
        update.AddParameter("@error", error.Length > 500 ? error[..500] : error);
        update.AddParameter("@at", retryAt?.ToUnixTimeMilliseconds() ?? 0);
        await update.ExecuteNonQueryAsync(cancellationToken);
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
